import { useState } from 'preact/hooks';
import { request } from '../api.ts';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.ts';
import { saveSession } from '../session.ts';
import { Notice } from '../ui/notice.tsx';

interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

interface Me {
  id: string;
  email: string;
  name: string;
  roles: string[];
}

/** Sign in, or sign up and then sign in. */
export function SignIn() {
  const { t } = useI18n();
  const [mode, setMode] = useState<'in' | 'up'>('in');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const email = String(form.get('email') ?? '');
    const password = String(form.get('password') ?? '');
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'up')
        await request('account', '/api/auth/signup', {
          method: 'POST',
          auth: false,
          body: { email, password, name: String(form.get('name') ?? '') },
        });
      const pair = await request<TokenPair>('account', '/api/auth/login', {
        method: 'POST',
        auth: false,
        body: { email, password },
      });
      const me = await request<Me>('account', '/api/users/me', {
        auth: false,
        headers: { authorization: `Bearer ${pair.accessToken}` },
      });
      saveSession({ ...pair, userId: me.id, email: me.email, name: me.name, roles: me.roles });
    } catch (err) {
      setError(describeError(err, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card narrow" aria-labelledby="auth-title">
      <h1 id="auth-title">{mode === 'in' ? t('auth.title') : t('auth.signUp')}</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          {t('auth.email')}
          <input name="email" type="email" autoComplete="email" required />
        </label>
        {mode === 'up' && (
          <label>
            {t('auth.name')}
            <input name="name" autoComplete="name" required maxLength={100} />
          </label>
        )}
        <label>
          {t('auth.password')}
          <input
            name="password"
            type="password"
            autoComplete={mode === 'in' ? 'current-password' : 'new-password'}
            minLength={mode === 'up' ? 8 : 1}
            required
          />
        </label>
        {error !== undefined && <Notice kind="error">{error}</Notice>}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('auth.working') : mode === 'in' ? t('auth.signIn') : t('auth.signUp')}
        </button>
      </form>
      <button type="button" class="link" onClick={() => setMode(mode === 'in' ? 'up' : 'in')}>
        {mode === 'in' ? t('auth.newHere') : t('auth.haveAccount')}
      </button>
    </section>
  );
}
