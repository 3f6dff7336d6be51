import type { ComponentChildren } from 'preact';

/** An error the fan must notice (announced at once), or a status (announced when the reader is idle). */
export function Notice(props: {
  kind: 'error' | 'info' | 'success';
  children: ComponentChildren;
  testId?: string;
}) {
  return (
    <p
      class={`notice notice-${props.kind}`}
      role={props.kind === 'error' ? 'alert' : 'status'}
      data-testid={props.testId}
    >
      {props.children}
    </p>
  );
}
