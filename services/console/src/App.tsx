import type { ReactNode } from 'react';
import { useSession, useSessionState } from './api/session';
import { IdentitySearch } from './components/IdentitySearch';
import { useNow } from './hooks/useNow';
import { duration } from './format';
import { AlertsPage } from './pages/AlertsPage';
import { EnforcersPage } from './pages/EnforcersPage';
import { FleetPage } from './pages/FleetPage';
import { IdentityPage } from './pages/IdentityPage';
import { LoginPage } from './pages/LoginPage';
import { OrdersPage } from './pages/OrdersPage';
import { PoliciesPage } from './pages/PoliciesPage';
import { Link, usePath } from './router';

export function App(): ReactNode {
  const { session, checking } = useSessionState();
  if (!session) return checking ? <div className="splash">Checking the token…</div> : <LoginPage />;
  return <Shell />;
}

const nav: { to: string; label: string; match: (p: string) => boolean; needs?: 'readAlerts' }[] = [
  { to: '/', label: 'Fleet', match: (p) => p === '/' || p.startsWith('/identities/') },
  { to: '/alerts', label: 'Alerts', match: (p) => p === '/alerts', needs: 'readAlerts' },
  { to: '/orders', label: 'Orders', match: (p) => p === '/orders' },
  { to: '/enforcers', label: 'Enforcement points', match: (p) => p === '/enforcers' },
  { to: '/policies', label: 'Policies', match: (p) => p === '/policies' },
];

function Shell(): ReactNode {
  const path = usePath();
  const { me, expiresAt, signOut } = useSession();
  const now = useNow(10_000);
  const identity = /^\/identities\/(.+)$/.exec(path);
  let page: ReactNode;
  if (path === '/') page = <FleetPage />;
  else if (path === '/alerts') page = <AlertsPage />;
  else if (path === '/orders') page = <OrdersPage />;
  else if (path === '/enforcers') page = <EnforcersPage />;
  else if (path === '/policies') page = <PoliciesPage />;
  else if (identity) {
    const id = decodeURIComponent(identity[1]!);
    page = <IdentityPage key={id} identityId={id} />;
  } else
    page = (
      <div className="panel">
        <h2>Not found</h2>
        <p>
          No page at <span className="mono">{path}</span>. <Link to="/">Back to the fleet</Link>.
        </p>
      </div>
    );
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="sidebar-inner">
        <div className="brand">
          <span className="logo" aria-hidden>
            ◉
          </span>
          livescope
        </div>
        <nav>
          {nav.map((n) => {
            const allowed = n.needs === undefined || me.can[n.needs];
            return allowed ? (
              <Link key={n.to} to={n.to} className={n.match(path) ? 'active' : ''} data-testid={`nav-${n.label.split(' ')[0]!.toLowerCase()}`}>
                {n.label}
              </Link>
            ) : (
              <span key={n.to} className="disabled" title={`Your roles (${me.roles.join(', ') || 'none'}) do not include reading alerts`}>
                {n.label}
              </span>
            );
          })}
        </nav>
        <div className="sidebar-foot muted">runtime access scope, live</div>
        </div>
      </aside>
      <div className="main">
        <header className="topbar">
          <IdentitySearch />
          <div className="user" data-testid="user">
            <span className="mono">{me.sub}</span>
            {me.roles.map((r) => (
              <span key={r} className="chip chip-role">
                {r}
              </span>
            ))}
            {expiresAt ? <span className="muted small">token {expiresAt * 1000 > now ? `expires in ${duration(expiresAt * 1000 - now)}` : 'expired'}</span> : null}
            <button type="button" className="btn btn-ghost" onClick={() => signOut()} data-testid="sign-out">
              Sign out
            </button>
          </div>
        </header>
        <main className="content">{page}</main>
      </div>
    </div>
  );
}
