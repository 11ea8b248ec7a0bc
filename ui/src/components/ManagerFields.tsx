// A manager's id and PIN typed at a cashier's session, to approve what a cashier may not do alone
// (a cancellation, a sale past the station's limits).

import { TextField } from "../shared/components/form";
import { useApp } from "../context";

export function ManagerFields(props: {
  testIds: { manager: string; pin: string };
  manager: string;
  onManager: (manager: string) => void;
  pin: string;
  onPin: (pin: string) => void;
}) {
  const { t } = useApp();
  return (
    <>
      <TextField
        label={t("cancel.manager")}
        testId={props.testIds.manager}
        autoComplete="off"
        value={props.manager}
        onValue={props.onManager}
      />
      <TextField
        label={t("cancel.manager_pin")}
        testId={props.testIds.pin}
        type="password"
        inputMode="numeric"
        autoComplete="off"
        value={props.pin}
        onValue={props.onPin}
      />
    </>
  );
}
