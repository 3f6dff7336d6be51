import { type MessageKey, useI18n } from '../i18n.ts';

export interface NumberBounds {
  min: number;
  max?: number;
  step?: number;
}

/** The waiting room's dial, as ticket-service bounds it: a new event's and a live queue's alike. */
export const ADMIT_PER_SECOND: NumberBounds = { min: 1, max: 100_000 };
export const MAX_ACTIVE: NumberBounds = { min: 1, max: 1_000_000 };

/** A labelled number in a control-room form, read back by its `name` from the form's data. */
export function NumberField(
  props: NumberBounds & { label: MessageKey; name: string; value: number | string; required?: boolean },
) {
  const { t } = useI18n();
  return (
    <label>
      {t(props.label)}
      <input
        name={props.name}
        type="number"
        min={props.min}
        max={props.max}
        step={props.step}
        required={props.required ?? true}
        defaultValue={String(props.value)}
      />
    </label>
  );
}
