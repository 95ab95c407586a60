"""Humanoid skeleton recognition by structure: which joints are the pelvis, legs, spine, arms and head.

The built-in maps in ``skeletons.yaml`` match exact joint-name sets. This module is the fallback that
makes unknown exporters work: it reads the hierarchy, not a list of names.

1. **Names are normalised** (:func:`normalise`): namespaces (``mixamorig:``, ``mixamorig7:``, ``Beta:``,
   ``a|b``) and rig prefixes (``Bip01``, ``CC_Base_``, ``DEF-``) are stripped, camelCase and separators
   split into words, case dropped, and a left/right marker in any common form (``Left``, ``L_``, ``_l``,
   ``.L``, ``l`` before a capital or a body-part word: ``lShldr``, ``lfemur``) becomes the joint's side.
   Words also flag joints to ignore: fingers, face (eyes, jaw, tongue ...), end bones, twist/roll
   bones and helpers (``__`` prefixes).
2. **Limbs from the hierarchy**: a *limb root* is a sided joint whose parent has no side. On each
   side the two limb roots with the longest branch (bone lengths summed to the farthest leaf) are the
   leg and the arm; the pair whose branch point lies nearer the root of the tree are the legs. Where no
   name carries a side at all, the limbs are the two longest pairs of sibling chains that mirror each
   other, and the motion decides which is left (:func:`unsided_sides`: the way the knees bend).
3. **Chains**: along a limb (following the longest branch) the ankle is the first joint named foot /
   ankle, the wrist the first named hand / wrist (fallback: the last joints of the chain, or the joint
   where the fingers branch; a named joint off the longest branch - a foot beside a longer heel helper -
   is found breadth first); knee / elbow and hip / shoulder are the joints above, skipping twist
   bones and taking the proximal one of a split bone (``upperleg01`` / ``upperleg02``). The toe is the
   toe-named joint after the ankle, else the next one that lies ahead of it (not along the shank) in
   the rest pose.
4. **Trunk**: pelvis = where the legs branch, chest = the spine joint where the arms branch, spine = the
   middle joint between them, neck and head = the chain leaving the chest that is neither arm
   (a joint named head wins; else the last joint of that chain).

Extra joints (fingers, metacarpals, eyes, jaw, twist and end bones, helpers) are ignored. The result is
named honestly: ``generic humanoid (Mixamo-like)`` names the naming family it resembles, never a
database it is not. Rotation-free quantities (bone lengths) are used here; posture checks that need
the motion (upright, quadruped) live in :mod:`sportsim.mocap.axes`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

_SIDE_WORDS = {"left": "l", "l": "l", "lft": "l", "right": "r", "r": "r", "rt": "r", "rgt": "r"}
_PREFIX_WORDS = {"bip", "bip01", "bip001", "mixamorig", "def", "org", "mch", "cc", "base", "jnt", "bn", "b", "j",
                 "sk", "skel", "bone"}
_PART_WORDS = ("femur", "tibia", "foot", "toes", "toe", "clavicle", "humerus", "radius", "wrist", "hand", "hip",
               "knee", "ankle", "shoulder", "shldr", "elbow", "collar", "forearm", "thigh", "shin", "uparm",
               "lowarm", "upleg", "lowleg", "leg", "arm", "buttock", "hipjoint", "fingers", "thumb", "eye", "ear",
               "upperarm", "lowerarm", "upperleg", "lowerleg", "calf", "heel")
_FINGER_WORDS = {"thumb", "index", "middle", "ring", "pinky", "pinkie", "little", "finger", "fingers", "fingerbase",
                 "carpal", "metacarpal", "digit", "palm", "inhand", "mid"}
_FACE_WORDS = {"eye", "eyes", "jaw", "tongue", "brow", "eyebrow", "lip", "lips", "ear", "nose", "mouth", "teeth",
               "cheek", "lid", "eyelid", "oris", "levator", "orbicularis", "special", "risorius", "temporalis",
               "mandible", "chin", "hair", "tail", "wing", "weapon", "prop"}
_END_WORDS = {"end", "nub", "tip", "site", "top", "headtop", "effector"}
_TWIST_WORDS = {"twist", "roll", "share", "helper", "adj", "corrective", "rot", "bend", "dummy"}
_FOOT_WORDS = {"foot", "ankle", "talus"}
_TOE_WORDS = {"toe", "toes", "toebase", "ball", "toe0", "metatarsal"}
_HAND_WORDS = {"hand", "wrist"}
_HEAD_WORDS = {"head", "skull"}
MIN_JOINTS = 15  # pelvis, chest, neck and six joints per side: fewer is a partial body (VR trackers, a head)
EXTRA_LIMB_SHARE = 0.6  # three sided limbs this long (share of the longest) on each side: not a humanoid
TOE_OFF_SHANK_DEG = 35.0  # a "toe" this close to the shank direction (rest pose) is not ahead of the ankle
LOWER_LIMB_SHARE = 0.6  # a shank / forearm is at least this share of its limb's longest bone (feet, hands less)
UNSIDED_MIN_BEND = 0.2  # mean |sin(knee bend)| of each leg needed to tell left from right (no side names) ...
UNSIDED_MIN_AGREEMENT = 0.5  # ... and each leg's bend-weighted agreement with the hip line (either sign)
UNSIDED_FEET_APART_DEG = 60.0  # two feet pointing further apart than this do not say where forward is
_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# naming families the result is said to resemble (lower-case names, namespace stripped)
_FAMILIES = {
    "Mixamo": {"hips", "spine", "spine1", "spine2", "neck", "head", "headtop_end", "leftupleg", "leftleg",
               "leftfoot", "lefttoebase", "lefttoe_end", "leftshoulder", "leftarm", "leftforearm", "lefthand",
               "lefthandindex1", "lefteye"},
    "CMU": {"hips", "lhipjoint", "leftupleg", "leftleg", "leftfoot", "lefttoebase", "lowerback", "spine",
            "spine1", "neck", "neck1", "head", "leftshoulder", "leftarm", "leftforearm", "lefthand", "lthumb",
            "lhipjoint", "rhipjoint", "lowerneck", "lfingers"},
    "Biovision/Xsens": {"hips", "chest", "chest2", "neck", "head", "leftcollar", "leftshoulder", "leftelbow",
                        "leftwrist", "lefthip", "leftknee", "leftankle", "lefttoe", "lefttoes", "ab"},
    "ASF/AMC": {"pelvis", "root", "lfemur", "ltibia", "lfoot", "ltoes", "lowerback", "upperback", "thorax",
                "lowerneck", "upperneck", "head", "lclavicle", "lhumerus", "lradius", "lwrist", "lhand"},
    "MakeHuman": {"root", "spine1", "spine2", "spine3", "neck", "head", "clavicle_l", "uparm_l", "loarm_l",
                  "hand_l", "upleg_l", "loleg_l", "foot_l", "toe_l", "pelvis.l", "upperleg01.l", "spine05",
                  "clavicle.l", "upperarm01.l", "lowerarm01.l", "wrist.l", "foot.l", "lowerleg01.l"},
    "3ds Max Biped": {"bip01", "bip01_pelvis", "bip01_spine", "bip01_l_thigh", "bip01_l_calf", "bip01_l_foot",
                      "bip01_l_clavicle", "bip01_l_upperarm", "bip01_l_forearm", "bip01_l_hand", "bip01_head",
                      "bip01 pelvis", "bip01 l thigh", "bip01 l calf", "bip01 l upperarm"},
    "DAZ/Poser": {"hip", "abdomen", "chest", "neck", "head", "lcollar", "lshldr", "lforearm", "lhand", "lthigh",
                  "lshin", "lfoot", "lbuttock", "abdomen2"},
    "SMPL": {"pelvis", "l_hip", "l_knee", "l_ankle", "l_foot", "spine1", "spine2", "spine3", "neck", "head",
             "l_collar", "l_shoulder", "l_elbow", "l_wrist", "l_hand", "left_hip", "left_knee"},
    "Blender": {"hips", "spine", "chest", "neck", "head", "thigh.l", "shin.l", "foot.l", "toe.l", "shoulder.l",
                "upper_arm.l", "forearm.l", "hand.l"},
    "Human3.6M/video": {"hip", "hips", "righthip", "rightknee", "rightankle", "spine", "thorax", "neck", "head",
                        "lefthipjoint", "neck1", "headendsite"},
}


@dataclass(frozen=True)
class JointName:
    """A normalised joint name: side ('l', 'r' or None), base words joined, and what kind of joint it is."""

    side: str | None
    base: str
    words: tuple[str, ...]
    kind: str  # "body", "finger", "face", "end", "twist" (twist, roll and helper bones)

    @property
    def stem(self) -> str:
        """The base without digits: ``upperleg01`` and ``upperleg02`` share the stem ``upperleg``."""
        return re.sub(r"\d+", "", self.base)


@dataclass(frozen=True)
class Recognition:
    """What :func:`recognise` found: canonical joint -> joint index, the naming family it resembles, and
    when the skeleton is not a usable humanoid, why (``problem``; then ``canonical`` is empty)."""

    canonical: dict[str, int]
    like: str = ""
    problem: str = ""
    sides: str = "names"  # "geometry": no joint name carries a side, l/r are provisional (:func:`unsided_sides`)

    @property
    def name(self) -> str:
        return f"generic humanoid ({self.like}-like)" if self.like else "generic humanoid"


def normalise(name: str) -> JointName:
    """Side, base and kind of a joint name (see the module docstring)."""
    helper = name.startswith("__")
    raw = re.split(r"[:|]", name)[-1]
    words = [w.lower() for w in _TOKEN.findall(raw)]
    while words and words[0] in _PREFIX_WORDS and len(words) > 1:
        words = words[1:]
        while words and words[0].isdigit() and len(words) > 1:
            words = words[1:]
    side = None
    for i, word in enumerate(words):
        if word in _SIDE_WORDS:
            side = _SIDE_WORDS[word]
            words = words[:i] + words[i + 1:]
            break
    if side is None and words:
        for i, word in enumerate(words):
            fused = _fused_side(word)
            if fused:
                side, rest = fused
                words = words[:i] + [rest] + words[i + 1:]
                break
    wordset = set(words)
    joined = "".join(words)
    if helper or wordset & _TWIST_WORDS:
        kind = "twist"
    elif wordset & _FACE_WORDS:
        kind = "face"
    elif wordset & _END_WORDS or joined.endswith("end"):
        kind = "end"
    elif wordset & _FINGER_WORDS or (wordset & _TOE_WORDS and len(words) > 1 and words[-1].isdigit()
                                      and "-" in raw):
        kind = "finger"
    else:
        kind = "body"
    return JointName(side, joined, tuple(words), kind)


def _fused_side(word: str) -> tuple[str, str] | None:
    """``lfemur`` -> ('l', 'femur'); ``lefthand`` -> ('l', 'hand'); None if the word has no side in it."""
    for prefix, side in (("left", "l"), ("right", "r"), ("l", "l"), ("r", "r")):
        rest = word[len(prefix):]
        if word.startswith(prefix) and rest and any(rest.startswith(p) for p in _PART_WORDS):
            return side, rest
    return None


def family_like(names: Sequence[str]) -> str:
    """The naming family ``names`` resemble most (share of a family's names present), or ''."""
    lowered = {re.split(r"[:|]", n)[-1].lower() for n in names}
    best, best_score = "", 0.0
    for family, signature in _FAMILIES.items():
        score = len(lowered & signature) / min(len(signature), len(lowered))
        if score > best_score:
            best, best_score = family, score
    return best if best_score >= 0.3 else ""


def recognise(names: Sequence[str], parents: Sequence[int], offsets: np.ndarray,
              end_sites: Sequence[tuple[int, np.ndarray]] = ()) -> Recognition:
    """Find the canonical humanoid joints in a hierarchy (parents precede children; ``offsets`` in any
    unit, only their lengths are used). A skeleton that is not a humanoid gives a ``problem``."""
    parents = [int(p) for p in parents]
    n = len(names)
    if n < MIN_JOINTS:
        return Recognition({}, problem=f"not a humanoid: {n} joints, where a full body needs at least {MIN_JOINTS} "
                                       "(pelvis, chest, neck, and hip, knee, ankle, shoulder, elbow, wrist on each side)")
    info = [normalise(name) for name in names]
    children: list[list[int]] = [[] for _ in range(n)]
    for j in range(1, n):
        children[parents[j]].append(j)
    length = np.linalg.norm(np.asarray(offsets, dtype=float).reshape(n, 3), axis=1)
    reach = np.zeros(n)
    for j, offset in end_sites:
        reach[j] = max(reach[j], float(np.linalg.norm(offset)))
    for j in range(n - 1, 0, -1):
        reach[parents[j]] = max(reach[parents[j]], length[j] + reach[j])
    branch = length + reach
    depth_m = np.zeros(n)
    rest = np.zeros((n, 3))
    for j in range(1, n):
        depth_m[j] = depth_m[parents[j]] + length[j]
        rest[j] = rest[parents[j]] + np.asarray(offsets, dtype=float).reshape(n, 3)[j]

    # 2. limb roots: sided joints under an unsided parent, two per side
    roots: dict[str, list[int]] = {"l": [], "r": []}
    for j in range(1, n):
        side = info[j].side
        if side and info[j].kind not in ("finger", "face", "end") and info[parents[j]].side != side:
            roots[side].append(j)
    longest = max((branch[j] for side in roots.values() for j in side), default=0.0)
    many = {side: sum(branch[j] >= EXTRA_LIMB_SHARE * longest for j in found) for side, found in roots.items()}
    if min(many.values()) >= 3:
        return Recognition({}, problem=f"not a humanoid: {many['l']} long limbs on the left and {many['r']} on the "
                                       "right (a humanoid has a leg and an arm on each side)")
    for side in roots:
        roots[side] = sorted((j for j in roots[side] if branch[j] >= 0.25 * longest), key=lambda j: -branch[j])[:2]
    sides = "names"
    if len(roots["l"]) < 2 or len(roots["r"]) < 2:
        found = len(roots["l"]) + len(roots["r"])
        unsided = _unsided_limbs(children, branch, info) if found == 0 else None
        if unsided is None:
            return Recognition({}, problem=f"found {found} left/right limbs by name, a humanoid needs 4 "
                                           "(two legs, two arms)")
        roots, sides = unsided, "geometry"
    pairs = _pair_limbs(roots["l"], roots["r"], info, parents)
    lca = [_lca(a, b, parents) for a, b in pairs]
    legs, arms = (pairs[0], pairs[1]) if depth_m[lca[0]] <= depth_m[lca[1]] else (pairs[1], pairs[0])

    canonical: dict[str, int] = {}
    for side, leg_root, arm_root in (("l", legs[0], arms[0]), ("r", legs[1], arms[1])):
        named = sides == "names"  # numbered names without sides (joint_3, joint_4) say nothing about the chain
        if named:
            leg = _chain(leg_root, children, branch, info, _FOOT_WORDS, parents)
            arm = _chain(arm_root, children, branch, info, _HAND_WORDS, parents)
        else:
            leg, arm = (_unnamed_chain(r, children, branch, info, length) for r in (leg_root, arm_root))
        if leg is None or arm is None:
            which = "leg" if leg is None else "arm"
            return Recognition({}, problem=f"the {'left' if side == 'l' else 'right'} {which} "
                                           f"({names[leg_root if leg is None else arm_root]}) has fewer than 3 joints")
        canonical.update({f"{side}_hip": leg[0], f"{side}_knee": leg[1], f"{side}_ankle": leg[2],
                          f"{side}_shoulder": arm[0], f"{side}_elbow": arm[1], f"{side}_wrist": arm[2]})
        toe = _toe(leg[2], leg[1], children, branch, info, rest)
        if toe is not None:
            canonical[f"{side}_toe"] = toe

    pelvis, chest = _lca(*legs, parents), _lca(*arms, parents)
    canonical["pelvis"], canonical["chest"] = pelvis, chest
    spine = _spine(pelvis, chest, parents, depth_m)
    if spine is not None:
        canonical["spine"] = spine
    arm_subtrees = {_child_towards(chest, a, parents) for a in arms}
    head_chain = _head_chain(chest, arm_subtrees, children, branch, info)
    below, above = chest, chest
    while not head_chain and below not in (pelvis, 0):  # a neck branching below the arms' joint (Chest -> Neck
        above, below = below, parents[below]            # beside Chest -> Chest2 -> collars): named neck/head only
        chain = _head_chain(below, {above}, children, branch, info) if below != pelvis else []
        if any(set(info[j].words) & (_HEAD_WORDS | {"neck"}) for j in chain):
            head_chain = chain
    if not head_chain:
        return Recognition({}, problem=f"no neck or head leaves the chest ({names[chest]}) besides the arms")
    head = next((j for j in head_chain if set(info[j].words) & _HEAD_WORDS), head_chain[-1])
    canonical["neck"] = head_chain[0]
    if head != head_chain[0]:
        canonical["head"] = head
    if len(set(canonical.values())) != len(canonical):  # e.g. a "left" limb inside the right one
        shared = sorted({names[j] for j in canonical.values() if list(canonical.values()).count(j) > 1})
        return Recognition({}, problem=f"the limbs found share joints ({', '.join(shared[:4])})")
    problem = _proportions(canonical, length, depth_m, names)
    return Recognition({} if problem else canonical, family_like(names), problem, sides)


def unsided_sides(canonical: dict[str, int], positions: np.ndarray) -> tuple[dict[str, int], str]:
    """Left and right of a skeleton whose names carry no side (``Recognition.sides == "geometry"``), from
    its motion ``positions (T, J, 3)`` (any axes): a knee bends only one way, so ``thigh x shank`` points
    to the body's left; the hip line (left minus right hip) must point that way too. Each leg is judged
    alone - its mean bend (|sin|) at least :data:`UNSIDED_MIN_BEND` and its bend-weighted agreement with
    the hip line at least :data:`UNSIDED_MIN_AGREEMENT` in size, both legs the same way - and the legs
    are swapped where both disagree; the arm whose shoulder lies on the left hip's side is the left arm.
    Over the corpus' named files every leg that passes these bounds agrees with its name (a mirrored
    recording disagrees, as it should); locked, hyperextended knees (a dancer's) bend too little to pass.
    Returns the map and a note; the note starts with "unknown" (map unchanged) where the legs do not tell."""
    def at(name: str) -> np.ndarray:
        return positions[:, canonical[name]]

    hips = _unit_rows(at("l_hip") - at("r_hip"))
    votes = []
    for s in "lr":
        bend = np.cross(_unit_rows(at(f"{s}_knee") - at(f"{s}_hip")), _unit_rows(at(f"{s}_ankle") - at(f"{s}_knee")))
        size = np.linalg.norm(bend, axis=-1)
        votes.append((float(np.mean(size)), float(np.sum(bend * hips) / max(float(np.sum(size)), 1e-12))))
    said = ", ".join(f"{side} leg bends {b:.2f} (mean |sin|), agreeing {a:+.2f}"
                     for side, (b, a) in zip(("one", "the other"), votes))
    weak = any(b < UNSIDED_MIN_BEND or abs(a) < UNSIDED_MIN_AGREEMENT for b, a in votes)
    toes = toe_side_vote(canonical, positions)
    toes_say = "" if toes is None else f"; the toes agree {toes:+.2f}"
    if weak or votes[0][1] * votes[1][1] < 0:
        if toes is None or abs(toes) < UNSIDED_MIN_AGREEMENT:
            return canonical, ("unknown: no joint name carries a side and neither the knees nor the toes tell left "
                               f"from right ({said}{toes_say or '; no toes'})")
        sign, how = toes, "the toes' direction (the knees do not tell)"
    elif toes is not None and abs(toes) >= UNSIDED_MIN_AGREEMENT and toes * votes[0][1] < 0:
        return canonical, ("unknown: no joint name carries a side and the knees and the toes disagree on left and "
                           f"right ({said}{toes_say})")
    else:
        sign, how = votes[0][1], "the knees' bend"
    out = dict(canonical)
    if sign < 0:
        out = _swapped(out, ("hip", "knee", "ankle", "toe"))
    hips = positions[:, out["l_hip"]] - positions[:, out["r_hip"]]
    shoulders = positions[:, out["l_shoulder"]] - positions[:, out["r_shoulder"]]
    if float(np.mean(np.sum(hips * shoulders, axis=-1))) < 0:
        out = _swapped(out, ("shoulder", "elbow", "wrist"))
    return out, f"from {how} (no joint name carries a side: {said}{toes_say} with the hip line as found)"


def toe_side_vote(canonical: dict[str, int], positions: np.ndarray) -> float | None:
    """How far the toes say the hip line as found points to the body's left, in [-1, 1] (None without
    toes on both legs, or where the two feet point more than :data:`UNSIDED_FEET_APART_DEG` apart): the
    feet point forward, the body's up is the mid-ankle -> mid-hip -> neck direction (side-free), and
    up x forward is the left (any right-handed axes). Over the corpus' named files every clip whose
    vote reaches :data:`UNSIDED_MIN_AGREEMENT` in size agrees with its names."""
    if not all(f"{s}_{part}" in canonical for s in "lr" for part in ("toe", "ankle", "hip")):
        return None

    def at(name: str) -> np.ndarray:
        return positions[:, canonical[name]]

    top = at("neck") if "neck" in canonical else at("chest")
    mid_hip = 0.5 * (at("l_hip") + at("r_hip"))
    up = _unit_rows(_unit_rows(mid_hip - 0.5 * (at("l_ankle") + at("r_ankle"))) + _unit_rows(top - mid_hip))
    feet = []
    for s in "lr":
        foot = at(f"{s}_toe") - at(f"{s}_ankle")
        feet.append(_unit_rows(foot - np.sum(foot * up, axis=-1, keepdims=True) * up))
    if float(np.median(np.sum(feet[0] * feet[1], axis=-1))) < math.cos(math.radians(UNSIDED_FEET_APART_DEG)):
        return None
    left = np.cross(up, _unit_rows(feet[0] + feet[1]))
    return float(np.mean(np.sum(_unit_rows(at("l_hip") - at("r_hip")) * left, axis=-1)))


def _unit_rows(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _swapped(canonical: dict[str, int], parts: tuple[str, ...]) -> dict[str, int]:
    out = dict(canonical)
    for part in parts:
        if f"l_{part}" in out and f"r_{part}" in out:
            out[f"l_{part}"], out[f"r_{part}"] = canonical[f"r_{part}"], canonical[f"l_{part}"]
    return out


# ---- internals --------------------------------------------------------------------------------
def _pair_limbs(left: list[int], right: list[int], info: list[JointName],
                parents: list[int]) -> list[tuple[int, int]]:
    """Pair each left limb root with its right counterpart (same name stem, else the closer branch point)."""
    a, b = left
    c, d = right
    same = info[a].stem == info[c].stem or info[b].stem == info[d].stem
    swapped = info[a].stem == info[d].stem or info[b].stem == info[c].stem
    if swapped and not same:
        return [(a, d), (b, c)]
    if same:
        return [(a, c), (b, d)]
    # no name hint: pair so that each pair branches from one joint as far from the root as possible
    def depth(j: int) -> int:
        k = 0
        while parents[j] >= 0:
            j, k = parents[j], k + 1
        return k
    straight = depth(_lca(a, c, parents)) + depth(_lca(b, d, parents))
    crossed = depth(_lca(a, d, parents)) + depth(_lca(b, c, parents))
    return [(a, c), (b, d)] if straight >= crossed else [(a, d), (b, c)]


def _unsided_limbs(children: list[list[int]], branch: np.ndarray, info: list[JointName]) -> dict[str, list[int]] | None:
    """Limb roots of a skeleton whose names carry no side (``joint_0`` .. ``joint_22``): the two longest
    pairs of sibling chains that mirror each other (same number of joints, branch lengths within 10 %).
    The first of each pair is called left for now; :func:`unsided_sides` decides from the motion."""
    def size(j: int) -> int:
        return 1 + sum(size(c) for c in children[j])

    pairs = []
    for kids in children:
        kids = [c for c in kids if info[c].kind == "body" and info[c].side is None]
        for x, a in enumerate(kids):
            for b in kids[x + 1:]:
                if min(branch[a], branch[b]) >= 0.9 * max(branch[a], branch[b]) > 0 and size(a) == size(b) >= 3:
                    pairs.append((a, b))
    pairs = sorted(pairs, key=lambda pair: -min(branch[pair[0]], branch[pair[1]]))[:2]
    if len(pairs) < 2:
        return None
    return {"l": [pairs[0][0], pairs[1][0]], "r": [pairs[0][1], pairs[1][1]]}


def _ancestors(j: int, parents: list[int]) -> list[int]:
    path = [j]
    while parents[path[-1]] >= 0:
        path.append(parents[path[-1]])
    return path


def _lca(a: int, b: int, parents: list[int]) -> int:
    seen = set(_ancestors(a, parents))
    return next(j for j in _ancestors(b, parents) if j in seen)


def _child_towards(top: int, j: int, parents: list[int]) -> int:
    """The child of ``top`` on the path down to ``j`` (``j`` itself if it is a child of ``top``)."""
    while parents[j] != top and parents[j] >= 0:
        j = parents[j]
    return j


def _major_path(start: int, children: list[list[int]], branch: np.ndarray, info: list[JointName]) -> list[int]:
    """From ``start`` down the longest branch, stopping before end bones."""
    path = [start]
    while True:
        options = [c for c in children[path[-1]] if info[c].kind not in ("end", "face")]
        if not options:
            return path
        path.append(max(options, key=lambda c: branch[c]))


def _unnamed_chain(root: int, children: list[list[int]], branch: np.ndarray, info: list[JointName],
                   length: np.ndarray) -> tuple[int, int, int] | None:
    """(upper, middle, end) of a limb whose names say nothing: along the longest branch, the last bone at
    least :data:`LOWER_LIMB_SHARE` as long as the longest is the shank (forearm) - a foot, hand or finger
    after it is shorter, a clavicle or hip bone before it is not last - and the bone before it the thigh
    (upper arm)."""
    path = _major_path(root, children, branch, info)
    bones = [length[j] for j in path]
    last = max((k for k in range(2, len(path)) if bones[k] >= LOWER_LIMB_SHARE * max(bones)), default=None)
    if last is None:
        return None
    return path[last - 2], path[last - 1], path[last]


def _chain(root: int, children: list[list[int]], branch: np.ndarray, info: list[JointName],
           end_words: set[str], parents: list[int]) -> tuple[int, int, int] | None:
    """(upper, middle, end) joints of a limb: hip, knee, ankle or shoulder, elbow, wrist."""
    path = [j for j in _major_path(root, children, branch, info)]
    end = next((j for j in path[1:] if info[j].kind == "body" and set(info[j].words) & end_words), None)
    if end is None:  # a longer helper branch (a heel bone beside the foot) hid the named joint: nearest one below
        end = _nearest_named(root, children, info, end_words)
    if end is None:
        fan = next((j for j in path if len([c for c in children[j] if info[c].kind != "end"]) >= 3), None)
        body = [j for j in path if info[j].kind in ("body", "twist") and not info[j].base.startswith("__")]
        if fan is not None:
            end = fan
        elif len(body) >= 3:
            end = body[-2] if end_words is _FOOT_WORDS and len(body) >= 4 else body[-1]
        else:
            return None
    middle = _proximal_of_run(_up(end, parents, info, root), parents, info, root)
    if middle is None or middle == root:
        return None
    upper = _proximal_of_run(_up(middle, parents, info, root), parents, info, root)
    if upper is None or len({upper, middle, end}) < 3:
        return None
    return upper, middle, end


def _nearest_named(root: int, children: list[list[int]], info: list[JointName], words: set[str]) -> int | None:
    """The body joint named with one of ``words`` fewest joints below ``root`` (breadth first), or None."""
    level = list(children[root])
    while level:
        named = [j for j in level if info[j].kind == "body" and set(info[j].words) & words]
        if named:
            return named[0]
        level = [c for j in level for c in children[j]]
    return None


def _up(j: int, parents: list[int], info: list[JointName], root: int) -> int | None:
    """The parent of ``j`` that is a real body joint (twist and helper bones skipped), within the limb."""
    if j == root:
        return None
    p = parents[j]
    while p != root and info[p].kind == "twist":
        p = parents[p]
    return p


def _proximal_of_run(j: int | None, parents: list[int], info: list[JointName], root: int) -> int | None:
    """The proximal joint of a bone split in numbered parts (``lowerleg01`` above ``lowerleg02``)."""
    if j is None:
        return None
    while j != root and info[parents[j]].stem == info[j].stem and info[j].stem and info[parents[j]].kind == "body":
        j = parents[j]
    return j


def _toe(ankle: int, knee: int, children: list[list[int]], branch: np.ndarray, info: list[JointName],
         rest: np.ndarray) -> int | None:
    """The joint ahead of the ankle: a toe-named child, else the longest child followed down while it lies
    along the shank in the rest pose (a 'fore foot' joint straight below the ankle); None if no joint
    points forward. (Toe names are trusted: some rigs - Rokoko, Bandai - rest with every bone along X.)"""
    options = [c for c in children[ankle] if info[c].kind in ("body", "finger", "twist")]
    if not options:
        return None
    named = [c for c in options if set(info[c].words) & _TOE_WORDS or info[c].stem.startswith("toe")]
    if named:
        return max(named, key=lambda c: branch[c])
    pick = max(options, key=lambda c: branch[c])
    shank = rest[ankle] - rest[knee]
    while _angle_deg(rest[pick] - rest[ankle], shank) < TOE_OFF_SHANK_DEG:
        deeper = [c for c in children[pick] if info[c].kind != "end"]
        if not deeper:
            return None
        pick = max(deeper, key=lambda c: branch[c])
    return pick


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-12 or nb < 1e-12:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))))


def _spine(pelvis: int, chest: int, parents: list[int], depth_m: np.ndarray) -> int | None:
    """The joint between pelvis and chest nearest the middle of the trunk (None if there is none). Where
    the legs hang off a side branch (MakeHuman's game rig: Root -> Hips -> legs) the spine starts at the
    joint both descend from."""
    top = _lca(pelvis, chest, parents)
    between = []
    j = parents[chest]
    while j >= 0 and j != top:
        between.append(j)
        j = parents[j]
    if not between:
        return None
    middle = 0.5 * (depth_m[chest] + depth_m[top])
    return min(between, key=lambda k: abs(depth_m[k] - middle))


def _head_chain(chest: int, arm_subtrees: set[int], children: list[list[int]], branch: np.ndarray,
                info: list[JointName]) -> list[int]:
    options = [c for c in children[chest] if c not in arm_subtrees and info[c].kind in ("body", "twist")
               and info[c].side is None]
    if not options:
        return []
    path = [max(options, key=lambda c: branch[c])]
    while True:
        nxt = [c for c in children[path[-1]] if info[c].kind in ("body", "twist") and info[c].side is None]
        if not nxt:
            return [j for j in path if info[j].kind == "body"] or path
        path.append(max(nxt, key=lambda c: branch[c]))


def _proportions(canonical: dict[str, int], length: np.ndarray, depth_m: np.ndarray, names: Sequence[str]) -> str:
    """'' for human proportions; else why not (a quadruped's or a robot's limbs)."""
    def dist(a: str, b: str) -> float:
        return float(abs(depth_m[canonical[b]] - depth_m[canonical[a]]))

    for side in ("l", "r"):
        thigh, shank = dist(f"{side}_hip", f"{side}_knee"), dist(f"{side}_knee", f"{side}_ankle")
        upper, fore = dist(f"{side}_shoulder", f"{side}_elbow"), dist(f"{side}_elbow", f"{side}_wrist")
        for what, a, b in (("thigh/shank", thigh, shank), ("upper-arm/forearm", upper, fore)):
            if min(a, b) <= 0 or not 0.4 <= a / b <= 2.5:
                return f"{what} length ratio {a / max(b, 1e-12):.2f} is not a human's (0.4-2.5)"
    return ""


__all__ = ["JointName", "Recognition", "family_like", "normalise", "recognise"]
