// The shell: session check, sign-in, navigation, status bar, error banner and the screens.

import type { JSX } from "preact";
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import {
  api,
  setUnauthenticatedHandler,
  storeToken,
  storedToken,
  type Product,
  type Session,
  type Station,
} from "./api";
import { ErrorBanner, type Problem } from "./shared/components/Banner";
import { ChoiceButton } from "./shared/components/form";
import { ApiError } from "./shared/http";
import { AppContext, type AppContextValue } from "./context";
import { errorText, storeLang, storedLang, translator, type TextKey } from "./i18n";
import type { Lang } from "./shared/i18n";
import { useLiveState } from "./live";
import { Login } from "./screens/Login";
import { StatusBar } from "./screens/StatusBar";
import { Forecourt } from "./screens/Forecourt";
import { Sales } from "./screens/Sales";
import { StockScreen } from "./screens/Stock";
import { Orders } from "./screens/Orders";
import { Prices } from "./screens/Prices";
import { Accounts } from "./screens/Accounts";
import { Users } from "./screens/Users";
import { AuditScreen } from "./screens/Audit";
import { SyncScreen } from "./screens/Sync";

const SCREENS = ["forecourt", "sales", "stock", "orders", "prices", "accounts", "users", "audit", "sync"] as const;
type Screen = (typeof SCREENS)[number];
const PRICE_REFRESH_MS = 30_000;
const CASHIER_SCREENS: readonly Screen[] = ["forecourt", "sales"];

function screenFromHash(): Screen {
  const name = window.location.hash.replace(/^#\/?/, "");
  return (SCREENS as readonly string[]).includes(name) ? (name as Screen) : "forecourt";
}

export function App() {
  const [lang, setLangState] = useState<Lang>(storedLang);
  const t = useMemo(() => translator(lang), [lang]);
  const [token, setToken] = useState<string | null>(storedToken);
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(token !== null);
  const [problem, setProblem] = useState<Problem | null>(null);

  const setLang = (next: Lang) => {
    storeLang(next);
    setLangState(next);
  };

  const signOut = useCallback(() => {
    storeToken(null);
    setToken(null);
    setSession(null);
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      signOut();
      setProblem({ code: "unauthenticated", message: "" });
    });
  }, [signOut]);

  useEffect(() => {
    if (token === null) return;
    api.session().then(
      (current) => {
        setSession(current);
        setChecking(false);
      },
      (error: unknown) => {
        setChecking(false);
        if (error instanceof ApiError && error.code !== "unauthenticated") {
          setProblem({ code: error.code, message: error.message });
        }
      },
    );
  }, [token]);

  const problemText =
    problem === null
      ? ""
      : problem.code.startsWith("ui.")
        ? problem.message
        : errorText(lang, problem.code, problem.message);

  // An ended session is not a fault: it says so, and why, rather than "Error".
  const sessionEnded = problem?.code === "unauthenticated";
  const banner =
    problem === null ? null : (
      <ErrorBanner
        problem={problem}
        title={t(sessionEnded ? "session.ended_title" : "error.title")}
        text={problemText}
        info={sessionEnded}
        closeLabel={t("common.close")}
        testId="error-banner"
        onClose={() => setProblem(null)}
      />
    );

  const langButtons = (
    <div class="lang">
      {(["ko", "en"] as const).map((code) => (
        <ChoiceButton key={code} chip testId={`lang-${code}`} active={lang === code} onClick={() => setLang(code)}>
          {t(`lang.${code}`)}
        </ChoiceButton>
      ))}
    </div>
  );

  if (token === null || session === null) {
    return (
      <>
        {banner}
        <Login
          t={t}
          langButtons={langButtons}
          checking={checking && token !== null}
          onSignedIn={(result) => {
            storeToken(result.token);
            setProblem(null);
            setSession({ user: result.user, name: result.name, role: result.role });
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
      session={session}
      lang={lang}
      langButtons={langButtons}
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
  session: Session;
  lang: Lang;
  langButtons: JSX.Element;
  banner: JSX.Element | null;
  setProblem: (problem: Problem | null) => void;
  onSignOut: () => void;
}) {
  const { session, lang, setProblem } = props;
  const t = useMemo(() => translator(lang), [lang]);
  const { live, connected } = useLiveState(props.token);
  const [screen, setScreen] = useState<Screen>(screenFromHash);
  const [station, setStation] = useState<Station | null>(null);
  const [products, setProducts] = useState<Product[]>([]);
  const [notice, setNotice] = useState<string | null>(null);

  const screens = session.role === "manager" ? SCREENS : CASHIER_SCREENS;
  const current = screens.includes(screen) ? screen : "forecourt";

  useEffect(() => {
    const onHash = () => setScreen(screenFromHash());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const run = useCallback(
    async <T,>(action: () => Promise<T>) => {
      setProblem(null);
      try {
        return { ok: true as const, value: await action() };
      } catch (error) {
        const problem =
          error instanceof ApiError
            ? { code: error.code, message: error.message }
            : { code: "ui.error", message: String(error) };
        setProblem(problem);
        return { ok: false as const, code: problem.code };
      }
    },
    [setProblem],
  );

  const refreshStation = useCallback(() => {
    api.station().then(setStation, () => undefined);
    api.products().then(setProducts, () => undefined);
  }, []);
  // The business day may change with any sale or day close; prices change now and then.
  const revision = live?.revision;
  useEffect(() => {
    api.station().then(setStation, () => undefined);
  }, [revision]);
  useEffect(() => {
    refreshStation();
    const timer = window.setInterval(refreshStation, PRICE_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [refreshStation]);

  useEffect(() => {
    if (notice === null) return;
    const timer = window.setTimeout(() => setNotice(null), 4000);
    return () => window.clearTimeout(timer);
  }, [notice]);

  const context: AppContextValue = useMemo(
    () => ({
      lang,
      t,
      session,
      station,
      timeZone: station?.time_zone ?? "Asia/Seoul",
      products,
      live,
      run,
      showProblem: (message: string) => setProblem({ code: "ui.input", message }),
      notify: setNotice,
      refreshStation,
    }),
    [lang, t, session, station, products, live, run, setProblem, refreshStation],
  );

  const go = (next: Screen) => {
    window.location.hash = `#/${next}`;
    setScreen(next);
    // A refusal is about the screen it came from: it does not follow the user elsewhere.
    setProblem(null);
  };

  return (
    <AppContext.Provider value={context}>
      <div class="shell">
        <header class="topbar">
          <div class="brand">
            <strong>{station?.name ?? t("app.title")}</strong>
            <span class="muted">
              {[station?.station, station?.business_day].filter((part) => part !== undefined && part !== null).join(" · ")}
            </span>
          </div>
          <nav class="nav">
            {screens.map((name) => (
              <button
                type="button"
                key={name}
                data-testid={`nav-${name}`}
                class={current === name ? "nav-item active" : "nav-item"}
                aria-current={current === name ? "page" : undefined}
                onClick={() => go(name)}
              >
                {t(`nav.${name}` as TextKey)}
              </button>
            ))}
          </nav>
          <div class="who">
            <span>
              {session.name} · {t(`role.${session.role}`)}
            </span>
            {props.langButtons}
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
          {current === "forecourt" && <Forecourt />}
          {current === "sales" && <Sales />}
          {current === "stock" && <StockScreen />}
          {current === "orders" && <Orders />}
          {current === "prices" && <Prices />}
          {current === "accounts" && <Accounts />}
          {current === "users" && <Users />}
          {current === "audit" && <AuditScreen />}
          {current === "sync" && <SyncScreen />}
        </main>
        <StatusBar live={live} connected={connected} />
      </div>
    </AppContext.Provider>
  );
}
