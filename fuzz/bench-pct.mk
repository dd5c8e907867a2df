# The cost of pct's baton per synchronisation point (fuzz/bench-pct.sh).
BENCHES += fuzz/bench-pct.sh
