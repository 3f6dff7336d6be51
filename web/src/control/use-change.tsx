import { useState } from 'preact/hooks';
import { describeError } from '../errors.ts';
import { useI18n } from '../i18n.ts';
import { Notice } from '../ui/notice.tsx';

/**
 * A change an operator makes through the API: `run` sends it and resolves with the answer (undefined when it
 * was refused), and `notice` says it was saved, or why not, in words (errors.ts).
 */
export function useChange() {
  const { t } = useI18n();
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string }>();
  const fail = (err: unknown) => setMessage({ kind: 'error', text: describeError(err, t) });
  async function run<T>(call: () => Promise<T>, saved: (answer: T) => string = () => t('control.saved')) {
    setMessage(undefined);
    try {
      const answer = await call();
      setMessage({ kind: 'success', text: saved(answer) });
      return answer;
    } catch (err) {
      fail(err);
      return undefined;
    }
  }
  const notice = message === undefined ? null : <Notice kind={message.kind}>{message.text}</Notice>;
  return { run, fail, notice };
}
