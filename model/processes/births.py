"""Spring births (ODD §7.2). The equation lives in :func:`model.herd.births`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import herd as herd_process
from model.species import N_SPECIES

if TYPE_CHECKING:
    from model.model import HerdtrapModel


def spring_births(model: HerdtrapModel) -> None:
    hh, p = model.households, model.p
    u = model.draw("births", (hh.n, N_SPECIES))
    density = np.minimum(1.0, model.density() ** -p["herd.density_exponent"])
    born = herd_process.births(
        hh.herd,
        model.birth_rate,
        female_share=p["herd.breeding_female_share"],
        young_survival=p["herd.young_survival"],
        winter_penalty=p["herd.birth_winter_penalty"],
        last_winter_loss=hh.last_winter_loss,
        density=density,
        u=u,
        loss_before=hh.winter_loss_before,
        carryover=p["herd.birth_penalty_carryover"],
    )
    hh.herd += born
    model.flows["births"] += born
