// One way for a panel to read what it shows: again whenever its refresh key changes, a failure kept as the
// sentence the panel displays (with Retry calling `load` again) instead of an exception lost in an effect.
import { useCallback, useEffect, useState } from "react";
import { describeError } from "./api";

export function useReader(read: () => Promise<void>, refreshKey: number) {
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      await read();
      setError(null);
    } catch (e) {
      setError(describeError(e));
    }
  }, [read]);
  useEffect(() => {
    void load();
  }, [load, refreshKey]);
  return { error, setError, load };
}
