import { duration, type MessageKey, useI18n } from '../i18n.ts';
import { useNow } from './hooks.ts';

/**
 * "… within 4 min 10 s", counting down to `until`. Its own component, ticking every second on its own: the page
 * around it (a seat map of thousands of seats) is not redrawn with it.
 */
export function Countdown(props: { until: string; message: MessageKey; testId?: string }) {
  const { t, lang } = useI18n();
  const now = useNow();
  return (
    <p class="countdown" data-testid={props.testId}>
      {t(props.message, { time: duration((Date.parse(props.until) - now) / 1000, lang) })}
    </p>
  );
}
