"""Pareto set, hypervolume (botorch's exact box decomposition), the Pareto plot and the design rules.

All objectives are handled in the maximised sense (``sign × value``; see ``Objective.sign``).
"""

import numpy as np


def pareto_mask(Y: np.ndarray) -> np.ndarray:
    """Rows of ``Y`` (n × m, maximised) that no other row dominates."""
    import torch
    from botorch.utils.multi_objective.pareto import is_non_dominated

    Y = np.asarray(Y, float)
    if len(Y) == 0:
        return np.zeros(0, bool)
    return is_non_dominated(torch.as_tensor(Y)).numpy()


def hypervolume(Y: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume dominated by the rows of ``Y`` (maximised) above the reference point ``ref``."""
    import torch
    from botorch.utils.multi_objective.box_decompositions.dominated import DominatedPartitioning

    Y = np.asarray(Y, float).reshape(-1, len(ref))
    ref = np.asarray(ref, float)
    Y = Y[np.all(Y > ref, axis=1)]
    if len(Y) == 0:
        return 0.0
    if len(ref) == 1:
        return float(Y.max() - ref[0])
    bd = DominatedPartitioning(ref_point=torch.as_tensor(ref), Y=torch.as_tensor(Y))
    return float(bd.compute_hypervolume())


def design_rules(designs: list[dict], values: list[dict], variables, objectives) -> list[dict]:
    """Which variable moves which objective: Spearman rank correlation for numeric variables, the
    spread of the per-choice mean for choices (in the objective's units), over feasible evaluations.

    Returns rows ``{variable, objective, effect, kind, n}``.
    """
    from scipy.stats import spearmanr

    rows = []
    for v in variables:
        for o in objectives:
            pairs = [(d[v.name], val[o.field]) for d, val in zip(designs, values) if val.get(o.field) is not None]
            if len(pairs) < 3:
                continue
            xs, ys = zip(*pairs)
            if v.type == "choice":
                means = {}
                for x, y in pairs:
                    means.setdefault(str(x), []).append(y)
                means = {k: float(np.mean(m)) for k, m in means.items()}
                best = (max if o.direction == "maximize" else min)(means, key=means.get)
                rows.append({"variable": v.name, "objective": o.name, "kind": "best choice",
                             "effect": f"{best} ({max(means.values()) - min(means.values()):+.3g} spread)", "n": len(pairs)})
            else:
                rho = spearmanr(xs, ys).statistic if len(set(xs)) > 1 else float("nan")
                rows.append({"variable": v.name, "objective": o.name, "kind": "rank corr.",
                             "effect": f"{rho:+.2f}", "n": len(pairs)})
    return rows


def pareto_plot(doc: dict, space, path) -> str:
    """Pareto plot (first two objectives, original units) and hypervolume history, as one PNG."""
    fig = pareto_figure(doc, space)
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)


def pareto_figure(doc: dict, space):
    """The matplotlib figure of :func:`pareto_plot` (the caller saves and closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    objs = space.objectives
    evs = [e for e in doc["evaluations"] if e["state"] != "proposed"]
    pareto = set(doc.get("pareto", []))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    fx = objs[0].field
    fy = objs[1].field if len(objs) > 1 else None
    for e in evs:
        x = e["values"].get(fx)
        y = e["values"].get(fy) if fy else e["index"]
        if x is None or y is None:
            continue
        ok = e["index"] in doc.get("feasible", [e["index"]]) and e["state"] == "successful"
        style = dict(c="crimson", s=45, zorder=3) if e["index"] in pareto else (
            dict(c="0.5", s=20) if ok else dict(c="0.7", marker="x", s=25))
        ax.scatter(x, y, **style)
    pts = sorted((e["values"][fx], e["values"].get(fy) if fy else e["index"]) for e in evs if e["index"] in pareto)
    if len(pts) > 1 and fy:
        ax.plot(*zip(*pts), c="crimson", lw=1, drawstyle="steps-post" if objs[1].sign < 0 else "default")
    ax.set_xlabel(f"{fx} ({objs[0].direction})")
    ax.set_ylabel(f"{fy} ({objs[1].direction})" if fy else "evaluation")
    ax.set_title(f"{doc['name']}: Pareto set (red), infeasible (x)")
    ax2 = axes[1]
    ax2.plot(doc.get("evaluations_history", []), doc.get("hypervolume_history", []), "o-")
    ax2.set_xlabel("evaluations")
    ax2.set_ylabel("hypervolume")
    ax2.set_title("hypervolume history")
    fig.tight_layout()
    return fig
