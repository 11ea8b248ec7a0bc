// The HQ dashboard's entry point (hq/index.html).

import { render } from "preact";
import { App } from "./app";
import "../shared/base.css";
import "./styles.css";

const root = document.getElementById("app");
if (root !== null) render(<App />, root);
