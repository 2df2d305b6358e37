# Writes test/fixtures/stats.json: SciPy's paired and Welch t-tests, TOST, Holm and Benjamini-Hochberg on fixed inputs (committed; tests never need Python).
#
# Run with Debian's SciPy:  /usr/bin/python3 scripts/fixtures_stats.py
# t-tests and CIs: scipy.stats.ttest_rel (with confidence_interval(0.95)) / ttest_ind(equal_var=False) (CI from stats.t.ppf).
# TOST: two one-sided tests from scipy.stats.ttest_1samp / the t distribution, p = min(1, 2 * max(p_low, p_high)) as
#   bnlab defines it (so that p < 0.05 exactly when the 95% CI lies within +-margin).
# Holm and BH: Debian's SciPy 1.10 has no false_discovery_control (added in 1.11) and statsmodels is not installed,
#   so both are written out below from their definitions (Holm 1979; Benjamini & Hochberg 1995), independently of
#   the TypeScript code.
import json
import numpy as np
from scipy import stats

rng = np.random.default_rng(14)


def r(x):
    return None if x is None or not np.isfinite(x) else float(x)


def paired_case(a, b, margin):
    res = stats.ttest_rel(a, b)
    ci = res.confidence_interval(0.95)
    d = np.asarray(a) - np.asarray(b)
    n = len(d)
    se = d.std(ddof=1) / np.sqrt(n)
    df = n - 1
    p_low = stats.t.sf((d.mean() + margin) / se, df)
    p_high = stats.t.cdf((d.mean() - margin) / se, df)
    return {
        'a': list(map(float, a)), 'b': list(map(float, b)), 'margin': margin,
        'diff': r(d.mean()), 'lo': r(ci.low), 'hi': r(ci.high), 'p': r(res.pvalue), 'df': df,
        'effect': r(d.mean() / d.std(ddof=1)), 'pEquiv': r(min(1.0, 2 * max(p_low, p_high))),
    }


def welch_case(a, b, margin):
    res = stats.ttest_ind(a, b, equal_var=False)
    a = np.asarray(a); b = np.asarray(b)
    qa = a.var(ddof=1) / len(a); qb = b.var(ddof=1) / len(b)
    se = np.sqrt(qa + qb)
    df = (qa + qb) ** 2 / (qa ** 2 / (len(a) - 1) + qb ** 2 / (len(b) - 1))
    diff = a.mean() - b.mean()
    # SciPy 1.10's ttest_ind has no confidence_interval: the Welch CI from SciPy's t quantile at Welch's df.
    half = stats.t.ppf(0.975, df) * se
    ci = type('CI', (), {'low': diff - half, 'high': diff + half})
    p_low = stats.t.sf((diff + margin) / se, df)
    p_high = stats.t.cdf((diff - margin) / se, df)
    return {
        'a': list(map(float, a)), 'b': list(map(float, b)), 'margin': margin,
        'diff': r(diff), 'lo': r(ci.low), 'hi': r(ci.high), 'p': r(res.pvalue), 'df': r(df),
        'effect': r(diff / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)), 'pEquiv': r(min(1.0, 2 * max(p_low, p_high))),
    }


def holm(p):
    p = np.asarray(p); m = len(p); order = np.argsort(p, kind='stable'); out = np.empty(m); run = 0.0
    for k, i in enumerate(order):
        run = max(run, min(1.0, (m - k) * p[i])); out[i] = run
    return out


def bh(p):
    p = np.asarray(p); m = len(p); order = np.argsort(p, kind='stable'); out = np.empty(m); run = 1.0
    for k in range(m - 1, -1, -1):
        i = order[k]; run = min(run, min(1.0, m * p[i] / (k + 1))); out[i] = run
    return out


paired = []
welch = []
for n, shift, margin in [(3, 0.01, 0.01), (5, 0.0, 0.02), (8, 0.3, 0.5), (12, -0.05, 0.2), (30, 0.1, 0.3)]:
    a = rng.normal(0.9, 0.05, n)
    b = a - shift + rng.normal(0, 0.02, n)
    paired.append(paired_case(np.round(a, 6), np.round(b, 6), margin))
for na, nb, shift, margin in [(3, 3, 0.01, 0.01), (4, 7, 0.5, 1.0), (10, 6, -2.0, 1.0), (25, 25, 0.0, 0.3)]:
    a = rng.normal(shift, 1.0, na)
    b = rng.normal(0, 0.5, nb)
    welch.append(welch_case(np.round(a, 6), np.round(b, 6), margin))

pvals = [0.001, 0.04, 0.03, 0.2, 0.012, 0.5, 0.049, 0.0001, 0.8, 0.03]
quantiles = [{'p': p, 'df': df, 'q': r(stats.t.ppf(p, df))} for p in (0.8, 0.975, 0.995) for df in (1, 2, 2.5, 5, 29, 100)]
out = {
    'generator': 'scripts/fixtures_stats.py with scipy ' + __import__('scipy').__version__,
    'paired': paired, 'welch': welch,
    'pvalues': pvals, 'holm': list(map(float, holm(pvals))), 'bh': list(map(float, bh(pvals))),
    'tQuantiles': quantiles,
}
with open('test/fixtures/stats.json', 'w') as f:
    json.dump(out, f, indent=1)
print('wrote test/fixtures/stats.json')
