// Hash routes: `#/network`, `#/stations/ST0001`, `#/prices` … (the hub serves one page).

import { useEffect, useState } from "preact/hooks";

/** The screens in the navigation, in its order. */
export const NAV_SCREENS = ["network", "prices", "orders", "sales", "stock", "alerts", "users", "audit", "settlement"] as const;

export type NavScreen = (typeof NAV_SCREENS)[number];

export type Route = { screen: NavScreen } | { screen: "station"; station: string };

export function parseRoute(hash: string): Route {
  const [first = "", second] = hash.replace(/^#\/?/, "").split("/");
  if (first === "stations" && second !== undefined && second !== "") {
    return { screen: "station", station: decodeURIComponent(second) };
  }
  const screen = NAV_SCREENS.find((name) => name === first);
  return { screen: screen ?? "network" };
}

export function stationHref(station: string): string {
  return `#/stations/${encodeURIComponent(station)}`;
}

export function screenHref(screen: NavScreen): string {
  return `#/${screen}`;
}

/** The route in the address bar, following it as it changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  return route;
}
