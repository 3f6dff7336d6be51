import { render } from 'preact';
import { lazy, Suspense } from 'preact/compat';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { request } from './api.ts';
import { loadConfig } from './config.ts';
import { EventList } from './fan/event-list.tsx';
import { EventPage } from './fan/event-page.tsx';
import { MyTickets } from './fan/my-tickets.tsx';
import { SignIn } from './fan/sign-in.tsx';
import { initialLang, type Lang, LangContext, translator } from './i18n.ts';
import { currentSession, isAdmin, onSessionChange, saveSession } from './session.ts';
import './style.css';
import { go, useRoute } from './ui/hooks.ts';

// The control room (uPlot, the dashboard's panels) loads only for those who open it: fans never download it.
const ControlRoom = lazy(() =>
  import('./control/control-room.tsx').then((m) => ({ default: m.ControlRoom })),
);

function App() {
  const [lang, setLangState] = useState<Lang>(initialLang());
  const [session, setSession] = useState(currentSession());
  const route = useRoute();
  const t = useMemo(() => translator(lang), [lang]);
  const setLang = (l: Lang) => {
    localStorage.setItem('reservex.lang', l);
    setLangState(l);
  };
  useEffect(() => onSessionChange(setSession), []);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = t('app.title');
  }, [lang, t]);

  const signOut = async () => {
    const s = currentSession();
    if (s !== undefined)
      await request('account', '/api/auth/logout', {
        method: 'POST',
        body: { refreshToken: s.refreshToken },
      }).catch(() => {});
    saveSession(undefined);
    go('/');
  };

  let page: preact.JSX.Element;
  const eventMatch = /^\/events\/([0-9a-f-]{36})$/.exec(route);
  if (session === undefined) page = <SignIn />;
  else if (eventMatch?.[1] !== undefined) page = <EventPage eventId={eventMatch[1]} />;
  else if (route === '/tickets') page = <MyTickets />;
  else if (route.startsWith('/control'))
    page = (
      <Suspense fallback={<p role="status">…</p>}>
        <ControlRoom session={session} eventId={/^\/control\/([0-9a-f-]{36})$/.exec(route)?.[1]} />
      </Suspense>
    );
  else page = <EventList />;

  return (
    <LangContext.Provider value={{ lang, t, setLang }}>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        {t('app.skip')}
      </button>
      <header class="top">
        <a class="brand" href="#/">
          ReserveX
        </a>
        <nav aria-label="main">
          {session !== undefined && (
            <>
              <a href="#/" aria-current={route === '/' ? 'page' : undefined}>
                {t('nav.events')}
              </a>
              <a href="#/tickets" aria-current={route === '/tickets' ? 'page' : undefined}>
                {t('nav.tickets')}
              </a>
              {isAdmin(session) && (
                <a href="#/control" aria-current={route.startsWith('/control') ? 'page' : undefined}>
                  {t('nav.control')}
                </a>
              )}
              <button type="button" class="link" onClick={() => void signOut()}>
                {t('nav.signOut')}
              </button>
            </>
          )}
          <label class="lang">
            <span class="visually-hidden">{t('nav.language')}</span>
            <select value={lang} onChange={(e) => setLang((e.currentTarget.value as Lang) ?? 'ko')}>
              <option value="ko">한국어</option>
              <option value="en">English</option>
            </select>
          </label>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </LangContext.Provider>
  );
}

const root = document.getElementById('app');
if (root !== null) {
  loadConfig()
    .then(() => render(<App />, root))
    .catch((error: Error) => {
      root.textContent = `ReserveX could not start: ${error.message}`;
    });
}
