"""Policy editor: switch policies on and set their levers (read from the registry).

Used in the Explore sidebar and twice on the side-by-side page. Its state is a
``solara.Reactive[dict]`` of ``{policy: {lever: value}}`` - the form scenario
files and ``HerdtrapModel(policies=...)`` take. Policies and levers come from
``model.policies.REGISTRY`` at run time, so newly added policies appear here
without changes to the app.
"""

from __future__ import annotations

from typing import Any

import solara

from experiments.webapp.appmodel import (
    policy_registry,
    policy_title,
    scenario_names,
    scenario_policies,
    slider_step,
)
from model.parameters import Param


def _lever_label(key: str, param: Param) -> str:
    unit = param.unit if param.unit and param.unit != "choice" else ""
    return key.replace("_", " ") + (f" ({unit})" if unit else "")


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@solara.component
def LeverInput(policy: str, key: str, param: Param, value: Any, on_value) -> None:
    """One lever: a slider for numbers, a select for choices, a checkbox, or a text box.

    The label (with the unit and the current value) sits above the control, so that
    long units stay readable in a narrow sidebar.
    """
    label = _lever_label(key, param)
    choices = getattr(param, "choices", None)
    small = {"font-size": "12px", "color": "#444", "margin-top": "4px"}
    if param.type == "bool":
        solara.Checkbox(label=label, value=bool(value), on_value=on_value)
    elif choices:
        solara.Select(label=label, value=value, values=list(choices), on_value=on_value,
                      dense=True)
    elif param.type == "str":
        solara.InputText(label=label, value=str(value), on_value=on_value, continuous_update=False)
    elif param.low is not None and param.high is not None:
        solara.Text(f"{label}: {_fmt(value)}", style=small)
        if param.type == "int":
            solara.SliderInt(label="", value=int(value), min=int(param.low), max=int(param.high),
                             step=slider_step(param), on_value=on_value)
        else:
            solara.SliderFloat(label="", value=float(value), min=float(param.low),
                               max=float(param.high), step=slider_step(param), on_value=on_value)
    else:
        solara.InputFloat(label=label, value=float(value), on_value=on_value)


@solara.component
def PolicyEditor(policies: solara.Reactive[dict], title: str = "Policies",
                 show_presets: bool = True) -> None:
    """Checkboxes for the registered policies; the levers of those switched on."""
    registry = policy_registry()
    preset, set_preset = solara.use_state("")

    def load_preset(name: str) -> None:
        set_preset(name)
        if name:
            policies.set(scenario_policies(name))

    with solara.Column(gap="4px"):
        solara.Text(title, style={"font-weight": "600"})
        if show_presets:
            solara.Select(label="Start from a scenario file (its policies)", value=preset,
                          values=["", *scenario_names()], on_value=load_preset)
        if not registry:
            solara.Info("No policies are registered in model/policies/ yet.")
        # the registered policies, then further instances the value holds (a scenario's
        # [policies.<name>] with policy = "<policy>", e.g. the pilot's second top-up)
        instances = {name: registry[v["policy"]] for name, v in policies.value.items()
                     if name not in registry and v.get("policy") in registry}
        for name, cls in {**registry, **instances}.items():
            levers: dict[str, Param] = dict(getattr(cls, "levers", {}))
            active = name in policies.value

            def toggle(on: bool, name=name, levers=levers) -> None:
                new = {k: dict(v) for k, v in policies.value.items()}
                if on:
                    new[name] = {k: p.default for k, p in levers.items()}
                else:
                    new.pop(name, None)
                policies.set(new)

            solara.Checkbox(label=policy_title(name), value=active, on_value=toggle)
            if active:
                with solara.Column(gap="0px", style={"padding-left": "18px"}):
                    current = policies.value[name]
                    for key, param in levers.items():

                        def set_lever(value, name=name, key=key) -> None:
                            new = {k: dict(v) for k, v in policies.value.items()}
                            new.setdefault(name, {})[key] = value
                            policies.set(new)

                        LeverInput(name, key, param, current.get(key, param.default), set_lever)
