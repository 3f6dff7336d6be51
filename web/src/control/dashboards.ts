import flashSaleOverview from '../../../dashboards/flash-sale-overview.json' with { type: 'json' };
import infrastructure from '../../../dashboards/infrastructure.json' with { type: 'json' };
import sagaHealth from '../../../dashboards/saga-health.json' with { type: 'json' };
import servicesRed from '../../../dashboards/services-red.json' with { type: 'json' };
import waitingRoom from '../../../dashboards/waiting-room.json' with { type: 'json' };
import type { Panel } from './prometheus.ts';

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

/**
 * Every dashboard in dashboards/, bundled at build time so that a panel changed there changes in the control room.
 * The first is the one the picker opens with.
 */
export const DASHBOARDS: readonly Dashboard[] = [
  flashSaleOverview,
  servicesRed,
  sagaHealth,
  waitingRoom,
  infrastructure,
] as Dashboard[];

/** How the control room shows a panel: the chart code draws stats and time series; any other type shows its PromQL. */
export type PanelDrawing = 'stat' | 'timeseries' | 'query-only';

export function drawingOf(panel: Panel): PanelDrawing {
  if (panel.type === 'stat' || panel.type === 'timeseries') return panel.type;
  return 'query-only';
}
