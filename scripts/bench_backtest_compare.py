"""Compare clonectl backtest with backtesting.py and vectorbt on one SMA crossover.

Run through scripts/bench-backtest-compare, which prepares the virtual environment and the
release build. Every tool runs an SMA(10)/SMA(30) crossover on the same daily bars: buy with all
the equity the tool allows on a cross above, sell everything on a cross below, orders decided on
a bar's close and filled at the next bar's open, commission 0.1% of traded value on each fill,
10 000 of starting cash. The script times each tool (best of N runs), compares trades and final
equity, and prints a table and a JSON summary. Disagreements are reported, never fatal.
"""

import argparse
import csv
import json
import math
import platform
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone
from fractions import Fraction

import numpy as np
import pandas as pd

CASH = 10_000.0
FEE = 0.001
FAST, SLOW = 10, 30
PRICE_TOL = 1e-9


def best_of(repeats, fn):
    """Runs fn `repeats` times; returns (best seconds, all seconds, last result)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), times, result


def day(value):
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def load_bars(path):
    frame = pd.read_csv(path, parse_dates=["date"], index_col="date")
    frame.columns = [column.capitalize() for column in frame.columns]
    return frame


# --- backtesting.py ---------------------------------------------------------------------------


def rolling_mean(values, period):
    return pd.Series(values).rolling(period).mean().to_numpy()


def backtesting_run(bars):
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(rolling_mean, self.data.Close, FAST)
            self.slow = self.I(rolling_mean, self.data.Close, SLOW)

        def next(self):
            if crossover(self.fast, self.slow):
                if not self.position:
                    # The default size is 1 - machine epsilon of the available margin, the
                    # largest fraction the library accepts; it buys whole units only.
                    self.buy()
            elif crossover(self.slow, self.fast):
                self.position.close()

    backtest = Backtest(
        bars,
        SmaCross,
        cash=CASH,
        commission=FEE,
        trade_on_close=False,
        exclusive_orders=False,
        finalize_trades=True,
    )
    return lambda: backtest.run()


def backtesting_result(stats):
    trades = [
        {
            "entry": day(row.EntryTime),
            "exit": day(row.ExitTime),
            "entryPrice": float(row.EntryPrice),
            "exitPrice": float(row.ExitPrice),
            "size": float(row.Size),
            "pnl": float(row.PnL),
        }
        for row in stats["_trades"].itertuples()
    ]
    return {"trades": trades, "finalEquity": float(stats["Equity Final [$]"])}


# --- vectorbt ---------------------------------------------------------------------------------


def vectorbt_run(bars, with_stats):
    import vectorbt as vbt

    close, open_ = bars["Close"], bars["Open"]

    def run():
        fast = vbt.MA.run(close, FAST)
        slow = vbt.MA.run(close, SLOW)
        # Signals on the close of bar i become orders at the open of bar i + 1.
        entries = fast.ma_crossed_above(slow).shift(1, fill_value=False).astype(bool)
        exits = fast.ma_crossed_below(slow).shift(1, fill_value=False).astype(bool)
        portfolio = vbt.Portfolio.from_signals(
            close,
            entries,
            exits,
            price=open_,
            size=np.inf,
            fees=FEE,
            init_cash=CASH,
            freq="1D",
        )
        final = portfolio.final_value()
        if with_stats:
            portfolio.stats()
        return portfolio, final

    return run


def vectorbt_result(portfolio, final):
    records = portfolio.trades.records_readable
    trades = [
        {
            "entry": day(row["Entry Timestamp"]),
            "exit": day(row["Exit Timestamp"]) if row["Status"] == "Closed" else None,
            "entryPrice": float(row["Avg Entry Price"]),
            "exitPrice": float(row["Avg Exit Price"]),
            "size": float(row["Size"]),
            "pnl": float(row["PnL"]),
        }
        for _, row in records.iterrows()
    ]
    return {"trades": trades, "finalEquity": float(final)}


# --- clonectl ---------------------------------------------------------------------------------


def clonectl_command(args, data, lot_step):
    command = [
        args.clonectl,
        "backtest",
        "--strategy",
        args.strategy,
        "--data",
        data,
        "--commission",
        str(FEE),
        "--cash",
        str(int(CASH)),
    ]
    if lot_step is not None:
        command += ["--lot-step", str(lot_step)]
    return command


def clonectl_run(command):
    def run():
        done = subprocess.run(command, capture_output=True, check=True, text=True)
        return json.loads(done.stdout)

    return run


def clonectl_result(report):
    def date_of(seconds):
        return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d")

    trades = [
        {
            "entry": date_of(trade["entryTime"]),
            "exit": date_of(trade["exitTime"]),
            "entryPrice": float(trade["entryPrice"]),
            "exitPrice": float(trade["exitPrice"]),
            "size": float(trade["size"]),
            "pnl": float(trade["pnl"]),
        }
        for trade in report["trades"]
    ]
    return {"trades": trades, "finalEquity": float(report["metrics"]["finalEquity"])}


# --- comparison -------------------------------------------------------------------------------


def compare_trades(ours, theirs):
    """Matches trades by (entry, exit) dates and compares prices and sizes of the matches."""
    key = lambda trade: (trade["entry"], trade["exit"])  # noqa: E731
    theirs_by_key = {key(trade): trade for trade in theirs}
    ours_keys = {key(trade) for trade in ours}
    matched = [(trade, theirs_by_key[key(trade)]) for trade in ours if key(trade) in theirs_by_key]
    price_mismatches = [
        {"entry": a["entry"], "exit": a["exit"], "ours": [a["entryPrice"], a["exitPrice"]],
         "theirs": [b["entryPrice"], b["exitPrice"]]}
        for a, b in matched
        if abs(a["entryPrice"] - b["entryPrice"]) > PRICE_TOL
        or abs(a["exitPrice"] - b["exitPrice"]) > PRICE_TOL
    ]
    size_ratios = [a["size"] / b["size"] - 1 for a, b in matched if b["size"]]
    return {
        "trades": [len(ours), len(theirs)],
        "sameDates": len(matched),
        "onlyOurs": [list(key(t)) for t in ours if key(t) not in theirs_by_key],
        "onlyTheirs": [list(key(t)) for t in theirs if key(t) not in ours_keys],
        "priceMismatches": price_mismatches,
        "sizeDiffPct": {
            "min": 100 * min(size_ratios) if size_ratios else None,
            "max": 100 * max(size_ratios) if size_ratios else None,
        },
    }


def replay(trades, bars, sizing, whole_units):
    """Final equity of a list of single-fill trades under a sizing rule, flat between trades.

    `decision_close` sizes with the close of the bar before the entry (clonectl);
    `fill_price` sizes with the entry fill price (backtesting.py and vectorbt). Both leave room
    for the fee. A trade closes the whole position and pays the fee on both fills.
    """
    closes = bars["Close"]
    positions = {date: i for i, date in enumerate(bars.index.strftime("%Y-%m-%d"))}
    equity = CASH
    for trade in trades:
        entry, exit_ = trade["entryPrice"], trade["exitPrice"]
        if sizing == "decision_close":
            price = float(closes.iloc[positions[trade["entry"]] - 1])
            units = equity / (price * (1 + FEE))
        else:
            # backtesting.py: int(margin · (1 − ε) // (price + price · fee)).
            units = equity * (1 - sys.float_info.epsilon) / (entry * (1 + FEE))
        if whole_units:
            units = math.floor(units)
        equity += units * (exit_ - entry) - units * (entry + exit_) * FEE
    return equity


def exact_ties(path):
    """Bars where SMA(FAST) equals SMA(SLOW) exactly, in rational arithmetic on the CSV text."""
    with open(path) as source:
        rows = list(csv.DictReader(source))
    closes = [Fraction(row["close"]) for row in rows]
    ties = []
    for i in range(SLOW - 1, len(closes)):
        if sum(closes[i - FAST + 1:i + 1]) / FAST == sum(closes[i - SLOW + 1:i + 1]) / SLOW:
            ties.append(rows[i]["date"])
    return ties


def crossover_rules(bars, ties):
    """Where the three tools' cross rules could disagree on this data's SMAs."""
    fast = bars["Close"].rolling(FAST).mean().to_numpy()
    slow = bars["Close"].rolling(SLOW).mean().to_numpy()
    valid = ~(np.isnan(fast) | np.isnan(slow))
    prev_f, prev_s, now_f, now_s = fast[:-1], slow[:-1], fast[1:], slow[1:]
    both = valid[:-1] & valid[1:]
    ours_up = both & (prev_f <= prev_s) & (now_f > now_s)
    lib_up = both & (prev_f < prev_s) & (now_f > now_s)
    ours_down = both & (prev_f >= prev_s) & (now_f < now_s)
    lib_down = both & (prev_f > prev_s) & (now_f < now_s)
    import vectorbt as vbt

    vbt_gap = (vbt.MA.run(bars["Close"], FAST).ma - vbt.MA.run(bars["Close"], SLOW).ma)
    return {
        "exactTies": ties,
        "gapAtTies": {
            date: {"pandas": float(fast[bars.index.get_loc(date)] - slow[bars.index.get_loc(date)]),
                   "vectorbt": float(vbt_gap.loc[date])}
            for date in ties
        },
        "floatTiesPandas": int(np.sum(valid & (fast == slow))),
        "crossesAbove": int(ours_up.sum()),
        "crossesBelow": int(ours_down.sum()),
        "barsWhereInclusiveAndStrictRulesDiffer": int(np.sum(ours_up != lib_up)
                                                      + np.sum(ours_down != lib_down)),
    }


# --- output -----------------------------------------------------------------------------------


def ms(seconds):
    return round(seconds * 1000, 3)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clonectl", required=True)
    parser.add_argument("--strategy", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    repeats = max(1, args.repeats)

    import backtesting
    import vectorbt

    bars = load_bars(args.data)
    timings, results = {}, {}

    # backtesting.py: run() computes the indicators, replays every bar and the statistics.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best, times, stats = best_of(repeats, backtesting_run(bars))
    timings["backtesting.py"] = {"bestMs": ms(best), "runsMs": [ms(t) for t in times]}
    results["backtesting.py"] = backtesting_result(stats)

    # vectorbt: the first call compiles (or loads from numba's cache) the kernels it uses.
    core = vectorbt_run(bars, with_stats=False)
    start = time.perf_counter()
    core()
    first = time.perf_counter() - start
    best, times, (portfolio, final) = best_of(repeats, core)
    timings["vectorbt"] = {"bestMs": ms(best), "runsMs": [ms(t) for t in times],
                           "firstCallMs": ms(first)}
    results["vectorbt"] = vectorbt_result(portfolio, final)
    with_stats = vectorbt_run(bars, with_stats=True)
    with_stats()
    best, times, _ = best_of(repeats, with_stats)
    timings["vectorbt+stats"] = {"bestMs": ms(best), "runsMs": [ms(t) for t in times]}

    # clonectl: a whole process (start, read both files, run, print JSON); the same process on
    # the first 40 bars gives the fixed part, and the difference is the 3 230 more bars.
    tiny = f"{args.work_dir}/bench-compare-40-bars.csv"
    with open(args.data) as source, open(tiny, "w") as out:
        out.writelines(line for _, line in zip(range(41), source))
    for name, lot_step in (("clonectl --lot-step 1", 1), ("clonectl", None)):
        command = clonectl_command(args, args.data, lot_step)
        best, times, report = best_of(repeats, clonectl_run(command))
        timings[name] = {"bestMs": ms(best), "runsMs": [ms(t) for t in times]}
        results[name] = clonectl_result(report)
    best_tiny, _, _ = best_of(repeats, clonectl_run(clonectl_command(args, tiny, 1)))
    timings["clonectl 40 bars"] = {"bestMs": ms(best_tiny)}
    ours_ms = timings["clonectl --lot-step 1"]["bestMs"]
    timings["clonectl 40 bars"]["fullFileMinusThisMs"] = round(ours_ms - ms(best_tiny), 3)

    ours_whole, ours_fraction = results["clonectl --lot-step 1"], results["clonectl"]
    comparisons = {
        "clonectl --lot-step 1 vs backtesting.py":
            compare_trades(ours_whole["trades"], results["backtesting.py"]["trades"]),
        "clonectl vs vectorbt":
            compare_trades(ours_fraction["trades"], results["vectorbt"]["trades"]),
        "clonectl vs clonectl --lot-step 1":
            compare_trades(ours_fraction["trades"], ours_whole["trades"]),
    }
    # Replays of the libraries' trade lists (one fill in, one out) under both sizing rules: the
    # fill-price rule must give back each library's equity, and the decision-close rule gives
    # what clonectl's sizing makes of the same trades.
    lists = {"backtesting.py": (results["backtesting.py"]["trades"], True),
             "vectorbt": (results["vectorbt"]["trades"], False)}
    equity = {name: round(result["finalEquity"], 6) for name, result in results.items()}
    replays = {
        name: {
            "fillPriceSizing": round(replay(trades, bars, "fill_price", whole), 6),
            "decisionCloseSizing": round(replay(trades, bars, "decision_close", whole), 6),
        }
        for name, (trades, whole) in lists.items()
    }
    # The decision-close rule checked against clonectl itself, up to its first trade that
    # differs from the libraries' (where clonectl's equity is its cash plus the trades' PnL).
    prefix_checks = {}
    for name, comparison in (("clonectl --lot-step 1", comparisons[
            "clonectl --lot-step 1 vs backtesting.py"]), ("clonectl", comparisons[
            "clonectl vs vectorbt"])):
        bad = {m["entry"] for m in comparison["priceMismatches"]}
        trades = results[name]["trades"]
        prefix = next((i for i, t in enumerate(trades) if t["entry"] in bad), len(trades))
        prefix_checks[name] = {
            "trades": prefix,
            "engineEquity": round(CASH + sum(t["pnl"] for t in trades[:prefix]), 6),
            "replay": round(replay(trades[:prefix], bars, "decision_close",
                                   name.endswith("1")), 6),
        }
    rules = crossover_rules(bars, exact_ties(args.data))

    notes = []
    for name, comparison in comparisons.items():
        same = (comparison["sameDates"] == comparison["trades"][0] == comparison["trades"][1]
                and not comparison["priceMismatches"])
        if same:
            notes.append(f"{name}: all {comparison['sameDates']} trades have the same entry and "
                         "exit dates and fill prices.")
        else:
            notes.append(
                f"{name}: {comparison['trades'][0]} and {comparison['trades'][1]} trades, "
                f"{comparison['sameDates']} with the same dates; only in the first: "
                f"{comparison['onlyOurs']}; only in the second: {comparison['onlyTheirs']}; "
                f"different prices: {json.dumps(comparison['priceMismatches'])}.")
    notes.append(
        "Cross rules: clonectl fires on previous fast <= slow and now fast > slow (>= and < "
        "below), backtesting.py on previous fast < slow, vectorbt's ma_crossed_above on a "
        "move from below to above, also through equal values. They differ only where the "
        f"averages tie exactly. Exact ties in rational arithmetic: {rules['exactTies']}; "
        f"fast - slow there in float: {json.dumps(rules['gapAtTies'])}. clonectl acts on a "
        "cross above even with a position open: open_long sizes a new 100% order and adds "
        "it. backtesting.py's strategy here buys only when flat; vectorbt ignores an entry "
        "while in a position (accumulate=False).")
    notes.append(
        "Sizing: clonectl sizes a 100% order with the equity and the close of the decision "
        "bar (units = equity / (close * (1 + fee))) and fills it at the next open; "
        "backtesting.py and vectorbt size with the fill price (the next open). Replays of "
        f"the libraries' trades: {json.dumps(replays)}; decision-close replay against "
        f"clonectl's own trades before the first difference: {json.dumps(prefix_checks)}.")
    notes.append(
        "Whole units: backtesting.py buys int(margin * (1 - eps) // (price * (1 + fee))) "
        "units; clonectl --lot-step 1 rounds down to whole shares; vectorbt and clonectl "
        "without a lot step trade fractions.")

    summary = {
        "bars": len(bars),
        "versions": {
            "python": platform.python_version(),
            "backtesting": backtesting.__version__,
            "vectorbt": vectorbt.__version__,
            "pandas": pd.__version__,
            "numpy": np.__version__,
        },
        "repeats": repeats,
        "timings": timings,
        "speedup": {
            "backtesting.py / clonectl --lot-step 1": round(
                timings["backtesting.py"]["bestMs"] / ours_ms, 2),
            "vectorbt / clonectl": round(
                timings["vectorbt"]["bestMs"] / timings["clonectl"]["bestMs"], 2),
            "vectorbt+stats / clonectl": round(
                timings["vectorbt+stats"]["bestMs"] / timings["clonectl"]["bestMs"], 2),
        },
        "finalEquity": equity,
        "replays": replays,
        "decisionCloseReplayCheck": prefix_checks,
        "comparisons": comparisons,
        "crossRules": rules,
        "notes": notes,
    }

    print(f"SMA({FAST})/SMA({SLOW}) crossover, {len(bars)} bars, best of {repeats} runs")
    print(f"{'tool':<24} {'best ms':>10} {'trades':>7} {'final equity':>14}")
    for name in ("clonectl --lot-step 1", "clonectl", "backtesting.py", "vectorbt"):
        print(f"{name:<24} {timings[name]['bestMs']:>10.2f} {len(results[name]['trades']):>7} "
              f"{results[name]['finalEquity']:>14.4f}")
    print(f"{'vectorbt+stats':<24} {timings['vectorbt+stats']['bestMs']:>10.2f}")
    print(f"vectorbt first call (compile or cache load): {timings['vectorbt']['firstCallMs']:.1f} ms")
    print(f"clonectl on 40 bars: {best_tiny * 1000:.2f} ms "
          f"(fixed process cost; the full file adds "
          f"{timings['clonectl 40 bars']['fullFileMinusThisMs']:.2f} ms)")
    for name, ratio in summary["speedup"].items():
        print(f"speed ratio {name}: {ratio}x")
    for note in notes:
        print(f"- {note}")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
