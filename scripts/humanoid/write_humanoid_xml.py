"""Write envs/humanoid.xml (the reference subject) from humanoid.template.xml and sportsim.humanoid's numbers.

    python scripts/humanoid/write_humanoid_xml.py

sportsim.humanoid computes every size, mass and inertia from de Leva's tables; the template holds the
model's structure and citations, with placeholders ``{attribute[:kind]:name}`` for the numbers.
tests/test_humanoid_model.py checks that the committed XML equals this output. Run it after changing
sportsim/humanoid.py.
"""
import re
from pathlib import Path

import mujoco

from sportsim import humanoid as h

HERE = Path(__file__).resolve().parent
tmpl = (HERE / "humanoid.template.xml").read_text()
out = HERE.parents[1] / "envs" / "humanoid.xml"
dummy = {"pos": "0 0 0.1", "size": "0.05 0.05 0.05", "fromto": "0 0 0 0 0 -0.1", "gear": "1 0 0 0 0 0"}
def dummy_sub(m):
    kind = m.group(1)
    if kind == "inertial":
        return 'pos="0 0 0" mass="1" diaginertia="0.01 0.01 0.01"'
    return dummy[kind]
pat = re.compile(r"\{(\w+)(?::(\w+))?:(\w+)\}")
if not out.exists():
    out.write_text(pat.sub(dummy_sub, tmpl))
spec = h.build_humanoid_spec()
spec.compile()

def fmt(values):
    s = []
    for v in values:
        v = round(float(v), 6)
        txt = f"{v:.6g}"
        s.append("0" if txt in ("-0", "0") else txt)
    return " ".join(s)

def real(m):
    kind, typ, name = m.group(1), m.group(2), m.group(3)
    if kind == "inertial":
        b = spec.body(name)
        return f'pos="{fmt(b.ipos)}" mass="{fmt([b.mass])}" diaginertia="{fmt(b.inertia)}"'
    if kind == "gear":
        return fmt(spec.actuator(name).gear)
    obj = {"body": spec.body, "geom": spec.geom, "site": spec.site, "camera": spec.camera}[typ](name)
    val = getattr(obj, kind)
    if kind == "size":
        n = {mujoco.mjtGeom.mjGEOM_SPHERE: 1, mujoco.mjtGeom.mjGEOM_CAPSULE: 1}.get(obj.type, 3)
        val = list(val)[:n]
    return fmt(val)
out.write_text(pat.sub(real, tmpl))
print("wrote", out)
