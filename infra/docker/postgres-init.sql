-- Run once by the postgres image on an empty volume (docker-entrypoint-initdb.d): the databases
-- infra/start.sh creates on a local server. Keep in step with infra/services.json (a unit test checks).
CREATE DATABASE livescope OWNER postgres;
CREATE DATABASE livescope_registry OWNER postgres;
