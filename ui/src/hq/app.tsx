// The HQ dashboard's shell: session check, sign-in, navigation, live updates, error banner and
// the screens.
//
// Test ids (data-testid), stable for the end-to-end tests; <x> is a station, product, order,
// version, user name, alert kind or audit entry exactly as the API names it:
//   shell    banner-error (data-code: the API's error code), notice, lang-switch (data-lang: the
//            language shown), logout, who (data-role), live-status (data-state connected|
//            reconnecting), nav-<network|prices|orders|sales|stock|alerts|users|audit|
//            settlement>
//            (aria-current="page" on the screen shown; a station's screen counts as network)
//   login    login-user, login-password, login-submit
//   tables   each table's own id (below), and around it <table>-count (data-count: rows after
//            the filters), <table>-export (a CSV of all those rows), <table>-more (200 more
//            rows), <table>-total (its total row, if any); a table with no rows is not drawn
//   fields   a text field refused in the page shows <field>-error under it
//   links    station-link-<station> wherever a station is named (#/stations/<station>); a
//            screen may name a station twice, so look for it inside its row
//   network  network-search, network-filter-region, network-filter-type, network-filter-state
//            (all|online|offline|alerts), network-table, network-export, network-row-<station>
//            (data-online, data-alerts, data-price-version), device-<printer|gauge|pump_line>-
//            <station> (data-state: the state, or "never"), network-summary-<total|online|
//            offline|alerts|behind>, network-register, station-form-<id|name|type|region>,
//            station-register-submit
//   station  station-title, station-online (data-state), station-last-seen,
//            station-waiting-from, station-waiting-to, station-price-version (data-version),
//            station-alerts-table, station-from, station-to, station-sales-chart,
//            station-sales-table, station-sales-row-<day>-<product> (data-net-won),
//            station-tanks-table, tank-row-<tank> (data-book-ml, data-measured-ml),
//            station-variance-table, station-orders-table, station-dead-letters-table,
//            dead-letter-<id>, station-divergences-table, divergence-<id>
//   prices   products-search, products-table, product-row-<product>, product-edit-<product>,
//            product-form-<id|name|unit>, product-form-save, price-mode-table, price-mode-csv,
//            price-effective-now, price-effective-scheduled, price-effective-at (datetime-local),
//            price-search, price-editor-table, price-row-<product> (data-changed),
//            price-edit-<product>, price-remove-<product> (rows added in the draft),
//            price-add-product, price-add, price-changed-count (data-count), price-reset,
//            price-newer, price-publish, price-csv-file, price-csv-text, price-csv-publish,
//            price-csv-errors (data-count), price-csv-error-<line>, versions-table,
//            version-row-<version> (data-current), rollout-<version> (shows its roll-out),
//            rollout-panel (data-version), rollout-<applied|pending|offline|total>-count
//            (data-count), rollout-filter-state (all|applied|pending|offline), rollout-table,
//            rollout-station-<station> (data-state), version-items-table, version-item-<product>
//   orders   orders-filter-<all|ordered|shipped|delivered|canceled|rejected> (ordered at first),
//            orders-filter-station, dispatch-auto (checkbox), orders-table, order-row-<order>
//            (data-status), shipment-<shipment>, order-dispatch-<order>, order-reject-<order>,
//            dispatch-dialog, dispatch-truck, dispatch-volume (litres), dispatch-expected
//            (datetime-local), dispatch-submit, reject-dialog, reject-reason, reject-submit
//   sales    sales-by (day|product|station|operating_type), sales-from, sales-to,
//            sales-filter-station, sales-filter-product, sales-filter-type, sales-compare
//            (checkbox), sales-compare-from, sales-compare-to, sales-range-error, sales-chart,
//            sales-table, sales-export, sales-row-<key> (data-net-won; comparing, also
//            data-compare-net-won and data-difference-won), sales-table-total
//   stock    stock-products-table, stock-product-<product>, stock-low-table,
//            stock-low-<station>-<tank>, stock-search, stock-stations-table,
//            stock-row-<station>-<tank> (data-low), stock-variance-table,
//            variance-row-<station>-<tank>-<day> (data-flagged)
//   alerts   alerts-filter-kind, alerts-table, alert-row-<kind>-<station> (data-kind),
//            alert-settings-<offline_after_minutes|backlog_limit|
//            price_not_applied_after_minutes|low_stock_days>, alert-settings-save
//   users    users-admin-only (instead of the rest, for other roles), user-username,
//            user-password, user-role, user-add, users-table, user-row-<user> (data-role,
//            data-locked), user-role-<user> (select), user-role-save-<user>, user-lift-<user>
//   audit    audit-q, audit-action, audit-actor, audit-search, audit-table, audit-row-<entry>
//            (data-action, data-actor), audit-older
//   settlement settlement-url, settlement-url-save, settlement-status (data-position),
//            settlement-period (YYYY-MM), settlement-period-state (data-state open|closed),
//            settlement-before-end, settlement-close (administrators), statements-table,
//            statement-row-<station> (data-status, data-total-won), statement-open-<station>,
//            statement-detail (data-station, data-status), line-<fuel-<grade>-<version>|
//            shop-<version>|fee|deduction-<grade>-<version>|adjustment-<day>-<kind>-<grade>|
//            total> (data-won), statement-csv, statement-print, terms-table,
//            terms-row-<station>-<version>, terms-<station|from|rates|shop|fee|loss>, terms-add

import type { JSX } from "preact";
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { ErrorBanner, type Problem } from "../shared/components/Banner";
import { browserTimeZone } from "../shared/format";
import { ApiError } from "../shared/http";
import type { Lang } from "../shared/i18n";
import { api, setUnauthenticatedHandler, storeToken, storedToken, type Me, type Product } from "./api";
import { HqContext, type HqContextValue } from "./context";
import { errorText, showsServerMessage, storeLang, storedLang, translator } from "./i18n";
import { useRevisions } from "./live";
import { can } from "./roles";
import { NAV_SCREENS, screenHref, useRoute, type NavScreen } from "./route";
import { AlertsScreen } from "./screens/Alerts";
import { AuditScreen } from "./screens/Audit";
import { Login } from "./screens/Login";
import { NetworkScreen } from "./screens/Network";
import { OrdersScreen } from "./screens/Orders";
import { PricesScreen } from "./screens/Prices";
import { SalesScreen } from "./screens/Sales";
import { SettlementScreen } from "./screens/Settlement";
import { StationScreen } from "./screens/Station";
import { StockScreen } from "./screens/Stock";
import { UsersScreen } from "./screens/Users";

const NOTICE_MS = 4000;

function problemOf(error: unknown): Problem {
  return error instanceof ApiError
    ? { code: error.code, message: error.message }
    : { code: "ui.error", message: String(error) };
}

export function App() {
  const [lang, setLangState] = useState<Lang>(storedLang);
  const t = useMemo(() => translator(lang), [lang]);
  // The page's language, for screen readers and the browser's own texts.
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const [token, setToken] = useState<string | null>(storedToken);
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(token !== null);
  const [problem, setProblem] = useState<Problem | null>(null);

  const signOut = useCallback(() => {
    storeToken(null);
    setToken(null);
    setMe(null);
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      signOut();
      setProblem({ code: "unauthenticated", message: "" });
    });
  }, [signOut]);

  // Who is signed in and in which role: asked after sign-in and on every page load.
  useEffect(() => {
    if (token === null) return;
    setChecking(true);
    api.me().then(
      (current) => {
        setMe(current);
        setChecking(false);
      },
      (error: unknown) => {
        setChecking(false);
        if (!(error instanceof ApiError && error.code === "unauthenticated")) setProblem(problemOf(error));
      },
    );
  }, [token]);

  const sessionEnded = problem?.code === "unauthenticated";
  const text =
    problem === null || problem.code.startsWith("ui.")
      ? (problem?.message ?? "")
      : errorText(lang, problem.code, problem.message);
  const banner =
    problem === null ? null : (
      <ErrorBanner
        problem={problem}
        title={t(sessionEnded ? "session.ended_title" : "error.title")}
        text={text}
        detail={
          showsServerMessage(problem.code) && problem.message !== "" && problem.message !== text
            ? problem.message
            : null
        }
        info={sessionEnded}
        closeLabel={t("common.close")}
        testId="banner-error"
        onClose={() => setProblem(null)}
      />
    );

  const other: Lang = lang === "ko" ? "en" : "ko";
  const langSwitch = (
    <button
      type="button"
      class="chip"
      data-testid="lang-switch"
      data-lang={lang}
      lang={other}
      aria-label={t("lang.switch_to", { language: t(`lang.${other}`) })}
      onClick={() => {
        storeLang(other);
        setLangState(other);
      }}
    >
      {t(`lang.${other}`)}
    </button>
  );

  if (token === null || me === null) {
    return (
      <>
        {banner}
        <Login
          t={t}
          langSwitch={langSwitch}
          checking={checking && token !== null}
          onSignedIn={(result) => {
            storeToken(result.token);
            setProblem(null);
            setToken(result.token);
          }}
          onProblem={setProblem}
        />
      </>
    );
  }

  return (
    <SignedIn
      key={token}
      token={token}
      me={me}
      lang={lang}
      langSwitch={langSwitch}
      banner={banner}
      setProblem={setProblem}
      onSignOut={() => {
        void api.logout().catch(() => undefined);
        signOut();
      }}
    />
  );
}

function SignedIn(props: {
  token: string;
  me: Me;
  lang: Lang;
  langSwitch: JSX.Element;
  banner: JSX.Element | null;
  setProblem: (problem: Problem | null) => void;
  onSignOut: () => void;
}) {
  const { me, lang, setProblem } = props;
  const t = useMemo(() => translator(lang), [lang]);
  const { revisions, connected } = useRevisions(props.token);
  const route = useRoute();
  const [products, setProducts] = useState<Product[]>([]);
  const [notice, setNotice] = useState<string | null>(null);

  const refreshProducts = useCallback(() => {
    api.products().then(setProducts, () => undefined);
  }, []);
  useEffect(refreshProducts, [revisions.prices, refreshProducts]);

  useEffect(() => {
    if (notice === null) return;
    const timer = window.setTimeout(() => setNotice(null), NOTICE_MS);
    return () => window.clearTimeout(timer);
  }, [notice]);

  const run = useCallback(
    async <T,>(action: () => Promise<T>) => {
      setProblem(null);
      try {
        return { ok: true as const, value: await action() };
      } catch (error) {
        setProblem(problemOf(error));
        return { ok: false as const, error };
      }
    },
    [setProblem],
  );

  const context: HqContextValue = useMemo(() => {
    const names = new Map(products.map((p) => [p.product, p.name]));
    return {
      lang,
      t,
      me,
      can: (permission) => can(me.role, permission),
      timeZone: browserTimeZone(),
      products,
      productName: (product) => names.get(product) ?? product,
      refreshProducts,
      revisions,
      run,
      report: (error) => setProblem(problemOf(error)),
      showProblem: (message) => setProblem({ code: "ui.input", message }),
      notify: setNotice,
    };
  }, [lang, t, me, products, refreshProducts, revisions, run, setProblem]);

  const shown: NavScreen = route.screen === "station" ? "network" : route.screen;

  return (
    <HqContext.Provider value={context}>
      <div class="shell hq">
        <header class="topbar">
          <div class="brand">
            <strong>{t("app.title")}</strong>
            <span
              class={connected ? "muted small" : "small live-lost"}
              data-testid="live-status"
              data-state={connected ? "connected" : "reconnecting"}
            >
              {t(connected ? "live.connected" : "live.reconnecting")}
            </span>
          </div>
          <nav class="nav" aria-label={t("nav.label")}>
            {NAV_SCREENS.map((name) => (
              <a
                key={name}
                href={screenHref(name)}
                data-testid={`nav-${name}`}
                class={shown === name ? "nav-item active" : "nav-item"}
                aria-current={shown === name ? "page" : undefined}
              >
                {t(`nav.${name}`)}
              </a>
            ))}
          </nav>
          <div class="who">
            <span data-testid="who" data-role={me.role}>
              {me.username} · {t(`role.${me.role}`)}
            </span>
            {props.langSwitch}
            <button type="button" data-testid="logout" class="ghost" onClick={props.onSignOut}>
              {t("nav.logout")}
            </button>
          </div>
        </header>
        {props.banner}
        {notice === null ? null : (
          <div class="notice" role="status" data-testid="notice">
            {notice}
          </div>
        )}
        <main class="content">
          {route.screen === "network" && <NetworkScreen />}
          {route.screen === "station" && <StationScreen key={route.station} station={route.station} />}
          {route.screen === "prices" && <PricesScreen />}
          {route.screen === "orders" && <OrdersScreen />}
          {route.screen === "sales" && <SalesScreen />}
          {route.screen === "stock" && <StockScreen />}
          {route.screen === "alerts" && <AlertsScreen />}
          {route.screen === "users" && <UsersScreen />}
          {route.screen === "audit" && <AuditScreen />}
          {route.screen === "settlement" && <SettlementScreen />}
        </main>
      </div>
    </HqContext.Provider>
  );
}
