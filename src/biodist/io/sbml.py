"""SBML Level 3 export of a compiled model, for COPASI, libRoadRunner/Tellurium and friends.

One SBML species per compartment of :func:`biodist.simulate` (same ids), amounts
in cells (unit ``item``), time in hours. Every transition ``i → j`` of the rate
matrix becomes a mass-action reaction with a named rate parameter
``k_<from>__<to>`` (1/h). The dose is the initial amount; a constant-rate
infusion is an input reaction per receiving compartment whose rate parameter
(cells/h) is switched off at ``infusion_end_h`` by ``piecewise``.

Needs ``python-libsbml`` (``pip install 'biodist[sbml]'``).
"""

from __future__ import annotations

from ..config import Scenario
from ..errors import ConfigError
from ..model import compile_model

__all__ = ["to_sbml"]


def _check(code: int, what: str) -> None:
    import libsbml

    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(f"libsbml could not {what}: {libsbml.OperationReturnValue_toString(code)}")


def _unit(model, uid: str, parts: list[tuple[int, int, float]]) -> None:
    ud = model.createUnitDefinition()
    ud.setId(uid)
    for kind, exponent, multiplier in parts:
        u = ud.createUnit()
        u.setKind(kind)
        u.setExponent(exponent)
        u.setScale(0)
        u.setMultiplier(multiplier)


def _parameter(model, pid: str, value: float, units: str, name: str) -> None:
    p = model.createParameter()
    p.setId(pid)
    p.setName(name)
    p.setValue(float(value))
    p.setUnits(units)
    p.setConstant(True)


def to_sbml(scenario: Scenario) -> str:
    """The scenario's compiled circulation model as an SBML Level 3 Version 2 document (a string).

    Raises
    ------
    ConfigError
        For ``heterogeneity = "size"`` (a mixture of chains, not one model).
    """
    try:
        import libsbml
    except ImportError:
        raise ConfigError("export-sbml needs python-libsbml: pip install 'biodist[sbml]'") from None
    if scenario.heterogeneity != "none":
        raise ConfigError(
            f"{scenario.sources.get('scenario', 'scenario')}: heterogeneity = {scenario.heterogeneity!r}: "
            "export-sbml writes one linear chain; use heterogeneity = 'none'"
        )
    m = compile_model(scenario).cell_chains[0]
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId(f"biodist_{scenario.name}".replace("-", "_").replace(" ", "_"))
    model.setName(f"biodist: {scenario.name} ({scenario.species.name}, {scenario.cell.name}, {scenario.route})")
    _unit(model, "hour", [(libsbml.UNIT_KIND_SECOND, 1, 3600.0)])
    _unit(model, "per_hour", [(libsbml.UNIT_KIND_SECOND, -1, 3600.0)])
    _unit(model, "cell", [(libsbml.UNIT_KIND_ITEM, 1, 1.0)])
    _unit(model, "cell_per_hour", [(libsbml.UNIT_KIND_ITEM, 1, 1.0), (libsbml.UNIT_KIND_SECOND, -1, 3600.0)])
    model.setTimeUnits("hour")
    model.setSubstanceUnits("cell")
    model.setExtentUnits("cell")
    body = model.createCompartment()
    body.setId("body")
    body.setConstant(True)
    body.setSize(1.0)
    body.setSpatialDimensions(3)
    body.setUnits("dimensionless")
    for i, name in enumerate(m.states):
        sp = model.createSpecies()
        sp.setId(name)
        sp.setCompartment("body")
        sp.setInitialAmount(float(m.initial[i]))
        sp.setSubstanceUnits("cell")
        sp.setHasOnlySubstanceUnits(True)
        sp.setBoundaryCondition(False)
        sp.setConstant(False)
    q = m.generator
    for i, src in enumerate(m.states):
        for j, dst in enumerate(m.states):
            if i == j or q[j, i] == 0.0:
                continue
            pid = f"k_{src}__{dst}"
            _parameter(model, pid, q[j, i], "per_hour", f"rate {src} -> {dst} (1/h)")
            r = model.createReaction()
            r.setId(f"r_{src}__{dst}")
            r.setReversible(False)
            for ref, sid in ((r.createReactant(), src), (r.createProduct(), dst)):
                ref.setSpecies(sid)
                ref.setStoichiometry(1.0)
                ref.setConstant(True)
            _check(r.createKineticLaw().setMath(libsbml.parseL3Formula(f"{pid} * {src}")), f"set the law of {pid}")
    if m.infusion_h > 0:
        _parameter(model, "infusion_end_h", m.infusion_h, "hour", "end of the constant-rate infusion (h)")
        for i, dst in enumerate(m.states):
            if m.input_rate[i] == 0.0:
                continue
            pid = f"input_{dst}"
            _parameter(model, pid, m.input_rate[i], "cell_per_hour", f"infusion into {dst} (cells/h)")
            r = model.createReaction()
            r.setId(f"r_infusion__{dst}")
            r.setReversible(False)
            prod = r.createProduct()
            prod.setSpecies(dst)
            prod.setStoichiometry(1.0)
            prod.setConstant(True)
            law = libsbml.parseL3Formula(f"piecewise({pid}, time < infusion_end_h, 0)")
            _check(r.createKineticLaw().setMath(law), f"set the infusion law of {dst}")
    errors = doc.checkInternalConsistency()
    if errors:
        raise RuntimeError(f"internal SBML error: {doc.getError(0).getMessage().strip()}")
    return libsbml.writeSBMLToString(doc)
