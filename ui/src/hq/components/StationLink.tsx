// A station's id as a link to its Station screen.

import { stationHref } from "../route";

export function StationLink(props: { station: string }) {
  return (
    <a href={stationHref(props.station)} class="mono" data-testid={`station-link-${props.station}`}>
      {props.station}
    </a>
  );
}
