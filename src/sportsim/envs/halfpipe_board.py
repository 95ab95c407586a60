"""HalfPipe-v2's rider dynamics: a board with a wheelbase and a rider with a body, in reduced coordinates.

Why not MuJoCo's step (issue 16): HalfPipe-v1 spent 93 % of its time in 16 MuJoCo substeps per control
step and ran at 0.36x Acrobot-v1; a 4 ms step drifted 0.8-1.0 % in energy, 5 ms 1.9 %. The guided motion
has two degrees of freedom, so v2 writes its Lagrangian down and integrates it here: RK4 steps of at most
40 ms, cut at every point where the profile's curvature changes under the board and to 1/8 wheelbase of
travel where the pitch rate changes; while the legs follow their tracking law the stance is known in
closed form and RK4 integrates only the position along the pipe; where a leg limit starts or stops
acting within a step (a kink in the force) both coordinates are integrated together in 20 ms steps. The
frictionless rider keeps its energy within 0.07 % over 20 s, the legs' work matches the energy gained
within 0.1 %, and the env steps at ~1.2-1.5x Acrobot-v1 (tests/test_halfpipe_v2.py,
scripts/bench_env_speed.py). MuJoCo keeps the model file and draws the frames.

Coordinates: ``s``, the arc length along the pipe profile (0 = middle of the flat, + towards +x) of the
point under the middle of the board, and ``l``, the rider's CoM height above that point along the board's
normal (the stance). The profile - flat, circular transitions of radius R, vertical walls, continued
above the coping along the wall's line - is exact; the board pitch is the mean surface angle under the
wheelbase ``L``,

    theta(s) = (1/L) int_{s-L/2}^{s+L/2} phi(sigma) d sigma,

(phi the surface angle): equal to the surface angle on the flat, the transitions and the walls, and
changing over one wheelbase where they meet, as a board's does when one truck is already on the curve
(the chord through two wheels on the profile has the same pitch on every circle and differs by
O(L^2/R^2) in the junction; the board's middle is kept on the surface instead of ~L^2/8R = 1 cm inside
the curve). theta is C^1, so the body's turning rate changes without a jump and without the 1/2 I
(v/r)^2 a point contact loses at each junction.

Bodies: the rider (mass ``m``, pitch inertia ``I(l)`` about its CoM - the de Leva body, standing to
crouched - turning with the board) and the board (mass ``m_b`` at the contact point, pitch inertia
``I_b``). The legs are a massless force between them that makes the stance follow its target as a
critically damped ``LEG_TRACKING_RADPS`` system, the force that needs computed from the equations of motion
and clipped to [0, F0 (1 - v / v0)] (they push, never pull; no force above the standing stance, where the
feet leave the board); a stop at the deepest crouch (inelastic). Rolling resistance mu N opposes the
board's motion (N: the wheels' load); air drag acts on the rider's CoM.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

HALF_PI = 0.5 * math.pi
FRICTION_SPEED_MPS = 0.01  # Coulomb friction is regularised below this sliding speed (linear in speed)
# the legs track the stance target as a critically damped second-order system of this natural frequency
# (~0.2 s to settle after a step, ramps followed without lag; v1's servo: 88 rad/s, which needed MuJoCo's
# implicit integration at 2.5 ms; 30 rad/s integrated by plain RK4 at 40 ms made up 4 % of a pumping rider's
# energy gain)
LEG_TRACKING_RADPS = 20.0
# where the pitch rate changes (within half a wheelbase of a junction) one step travels at most this many
# wheelbases
ZONE_STEP_FRACTION = 0.125
# where the legs' regime changes within a step (tracking, no push, force limit, stop: a kink in the force),
# both coordinates are integrated together in steps of at most this
FALLBACK_STEP_S = 0.02


@dataclass
class BoardRiderParams:
    half_flat_m: float
    radius_m: float
    wheelbase_m: float
    rider_mass_kg: float
    board_mass_kg: float
    board_inertia_kgm2: float
    inertia_coef: tuple[float, float, float]  # I(c) = c0 + c1 c + c2 c^2, c = standing stance - l (crouch)
    stand_m: float  # stance standing (legs at full reach)
    stop_m: float  # stance at the legs' stop (deepest crouch)
    max_push_n: float
    leg_max_velocity_mps: float
    gravity_mps2: float
    drag_coef: float  # 1/2 rho C_D A
    along_pipe_speed2: float  # (m/s)^2


class BoardRider:
    """State ``(s, ds, l, dl)`` and the servo target; :meth:`advance` integrates one control step."""

    def __init__(self, p: BoardRiderParams, dt_s: float, control_dt_s: float) -> None:
        self.p = p
        self.dt_s, self.control_dt_s = dt_s, control_dt_s
        self.a, self.R, self.L = p.half_flat_m, p.radius_m, p.wheelbase_m
        self.sw = self.a + self.R * HALF_PI  # arc length where the wall starts
        half = 0.5 * self.L
        pts = {0.0} if self.a == 0.0 else set()
        for j in (self.a, self.sw):
            for off in (-half, 0.0, half):
                pts.update((j + off, -(j + off)))
        self.breaks = sorted(pts)
        # where the pitch rate changes (|s| within half a wheelbase of a junction): steps limited there
        self.zones = ((self.a - half, self.a + half), (self.sw - half, self.sw + half))
        self.refresh()
        self.mu = 0.0  # rolling resistance coefficient
        self.legs_locked = False  # rigid legs: l held (tests of the passive rider)
        self.s = self.ds = self.dl = 0.0
        self.l = p.stand_m
        self.act = p.stand_m
        self.integrated_s = self.net_work_j = 0.0
        self.regime = 1  # the last evaluation's leg regime (see accel)
        self.stop_n = 0.0  # force on the legs' stop, last evaluation (N)
        self.leg_force_n = 0.0  # the legs' force (N)

    def refresh(self) -> None:
        """Copy the parameters into the tuple :meth:`accel` reads (call after changing ``p``); the legs' stance
        tracking is critically damped at LEG_TRACKING_RADPS."""
        p, w = self.p, LEG_TRACKING_RADPS
        self._const = (p.rider_mass_kg, p.board_mass_kg, p.gravity_mps2, p.board_inertia_kgm2, p.stand_m, p.stop_m,
                       p.max_push_n, p.leg_max_velocity_mps, p.drag_coef, p.along_pipe_speed2, *p.inertia_coef,
                       w * w, 2.0 * w, self.a, self.sw, self.R, self.L, 1.0 / self.R)

    # -- profile -----------------------------------------------------------------------------------
    def surface(self, sigma: float) -> tuple[float, float, float]:
        """Surface angle phi, curvature kappa and int_0^sigma phi at arc length ``sigma``."""
        x = sigma if sigma >= 0.0 else -sigma
        a, R = self.a, self.R
        if x <= a:
            phi, kappa, Phi = 0.0, 0.0, 0.0
        elif x <= self.sw:
            u = x - a
            phi, kappa, Phi = u / R, 1.0 / R, 0.5 * u * u / R
        else:
            phi, kappa, Phi = HALF_PI, 0.0, R * math.pi ** 2 / 8.0 + HALF_PI * (x - self.sw)
        return (phi, kappa, Phi) if sigma >= 0.0 else (-phi, kappa, Phi)

    def point(self, sigma: float) -> tuple[float, float]:
        """The profile point (x, z) at arc length ``sigma``."""
        x = sigma if sigma >= 0.0 else -sigma
        a, R = self.a, self.R
        if x <= a:
            px, pz = x, 0.0
        elif x <= self.sw:
            u = (x - a) / R
            px, pz = a + R * math.sin(u), R * (1.0 - math.cos(u))
        else:
            px, pz = a + R, R + (x - self.sw)
        return (px, pz) if sigma >= 0.0 else (-px, pz)

    def pitch(self, s: float) -> tuple[float, float, float]:
        """Board pitch theta (rad, + nose up towards +x) and its first two derivatives along s."""
        h = 0.5 * self.L
        p1, k1, P1 = self.surface(s + h)
        p0, k0, P0 = self.surface(s - h)
        return (P1 - P0) / self.L, (p1 - p0) / self.L, (k1 - k0) / self.L  # Phi is even (phi odd)

    def inertia(self, l: float) -> tuple[float, float]:
        """Rider pitch inertia about the CoM and its derivative along l."""
        c = self.p.stand_m - l
        if c <= 0.0:
            return self.p.inertia_coef[0], 0.0
        c0, c1, c2 = self.p.inertia_coef
        return c0 + c1 * c + c2 * c * c, -(c1 + 2.0 * c2 * c)

    # -- dynamics ----------------------------------------------------------------------------------
    def accel(self, s: float, ds: float, l: float, dl: float, act: float,
              rate: float) -> tuple[float, float, float, float]:
        """Generalised accelerations (s'', l''), the legs' positive power and their power, for the stance target ``act``
        moving at ``rate``; sets the loads (leg force, stop force)."""
        (m, mb, g, ib, stand, stop_m, f0, v0, drag, u2, c0, c1, c2, w2, w2z, a, sw, R, L, inv_r) = self._const
        # surface angle, curvature and int phi under the middle of the board and its two ends (Phi even)
        x = -s if s < 0.0 else s
        if x <= a:
            phi = kappa = 0.0
        elif x <= sw:
            phi, kappa = (x - a) * inv_r, inv_r
        else:
            phi, kappa = HALF_PI, 0.0
        if s < 0.0:
            phi = -phi
        h = 0.5 * L
        x = s + h
        y = -x if x < 0.0 else x
        if y <= a:
            p1 = k1 = q1 = 0.0
        elif y <= sw:
            u = y - a
            p1, k1, q1 = u * inv_r, inv_r, 0.5 * u * u * inv_r
        else:
            p1, k1, q1 = HALF_PI, 0.0, R * math.pi ** 2 / 8.0 + HALF_PI * (y - sw)
        if x < 0.0:
            p1 = -p1
        x = s - h
        y = -x if x < 0.0 else x
        if y <= a:
            p0 = k0 = q0 = 0.0
        elif y <= sw:
            u = y - a
            p0, k0, q0 = u * inv_r, inv_r, 0.5 * u * u * inv_r
        else:
            p0, k0, q0 = HALF_PI, 0.0, R * math.pi ** 2 / 8.0 + HALF_PI * (y - sw)
        if x < 0.0:
            p0 = -p0
        th, th1, th2 = (q1 - q0) / L, (p1 - p0) / L, (k1 - k0) / L
        sp, cp = (0.0, 1.0) if phi == 0.0 else (math.sin(phi), math.cos(phi))  # the flat needs no trig
        st, ct = (0.0, 1.0) if th == 0.0 else (math.sin(th), math.cos(th))
        # rider CoM C = P(s) + l n(theta), n = (-sin, cos), t = (cos, sin); dC/ds, dC/dl = n
        csx, csz = cp - l * th1 * ct, sp - l * th1 * st
        # bias acceleration C_ss ds^2 + 2 C_sl ds dl
        ds2, t11 = ds * ds, th1 * th1
        lt1 = l * t11
        bx = (-kappa * sp - l * th2 * ct + lt1 * st) * ds2 - 2.0 * th1 * ct * ds * dl
        bz = (kappa * cp - l * th2 * st - lt1 * ct) * ds2 - 2.0 * th1 * st * ds * dl
        vx, vz = csx * ds - st * dl, csz * ds + ct * dl
        k = drag * math.sqrt(vx * vx + vz * vz + u2)
        fx, fz = -k * vx - m * bx, -k * vz - m * (g + bz)
        c = stand - l  # crouch depth: the body's pitch inertia I(c) (standing above the stroke)
        if c > 0.0:
            inertia, dinertia = c0 + (c1 + c2 * c) * c, -(c1 + 2.0 * c2 * c)
        else:
            inertia, dinertia = c0, 0.0
        turn = inertia + ib
        rhs_s = fx * csx + fz * csz - turn * th1 * th2 * ds2 - dinertia * t11 * ds * dl - mb * g * sp
        rhs_l = -fx * st + fz * ct + 0.5 * dinertia * t11 * ds2
        mss = m * (csx * csx + csz * csz) + turn * t11 + mb
        msl = m * (-csx * st + csz * ct)
        # the stance equation with s'' eliminated: m_red l'' = free + F
        m_red, free = m - msl * msl / mss, rhs_l - msl * rhs_s / mss
        force = stop = 0.0
        regime = 1  # what sets the legs' force: 0 the tracking law, 1 nothing (no push), 2 the limit, 3 the stop
        if self.legs_locked:
            ddl = 0.0
            force = -free
        else:
            if l < stand:  # feet on the board: the legs track the target, within their limits
                force = m_red * (w2 * (act - l) + w2z * (rate - dl)) - free
                if force < 0.0:
                    force = 0.0
                else:
                    limit = (f0 * (1.0 - dl / v0) if dl < v0 else 0.0) if dl > 0.0 else f0
                    if force > limit:
                        force, regime = limit, 2
                    else:
                        regime = 0
            ddl = (free + force) / m_red
            if l <= stop_m and ddl < 0.0 and dl <= 0.0:  # resting on the stop
                ddl, stop, regime = 0.0, -(free + force), 3
        self.regime = regime
        dds = (rhs_s - msl * ddl) / mss
        if self.mu > 0.0:  # rolling resistance on the board's motion, from the wheels' normal load
            normal = force + stop + mb * (g * cp + kappa * ds2)
            if u2 > 0.0:  # only the cross-section share of the sliding velocity (v1's rule)
                sign = ds / math.sqrt(ds2 + u2)
            else:
                sign = (1.0 if ds > 0.0 else -1.0) if abs(ds) > FRICTION_SPEED_MPS else ds / FRICTION_SPEED_MPS
            q = -self.mu * normal * sign if normal > 0.0 else 0.0
            if self.legs_locked or stop > 0.0:
                dds += q / mss
            else:
                dds += q / (mss - msl * msl / m)
                ddl -= msl * q / (mss * m - msl * msl)
        self.leg_force_n, self.stop_n = force, stop
        power = force * dl
        return dds, ddl, (power if power > 0.0 else 0.0), power

    def advance(self, ctrl: float, lo: float, hi: float) -> float:
        """Integrate one control step with the stance target moving at ``ctrl`` (m/s) inside [lo, hi]; returns the
        legs' positive work (J). RK4 steps of at most ``dt_s``, cut at every curvature break of the profile under the
        board (its middle or either wheel) and to ZONE_STEP_FRACTION wheelbases of travel where the pitch rate changes."""
        t_end, t, work, net = self.control_dt_s, 0.0, 0.0, 0.0
        s, ds, l, dl = self.s, self.ds, self.l, self.dl
        act0, f, breaks, h0, zones, zone_step = self.act, self.accel, self.breaks, self.dt_s, self.zones, ZONE_STEP_FRACTION * self.L
        # the target stops at an end of its range: the legs' speed command drops from ctrl to 0 there
        t_stop = (hi - act0) / ctrl if ctrl > 0.0 else (lo - act0) / ctrl if ctrl < 0.0 else -1.0
        while t < t_end - 1e-12:
            h = h_max = min(h0, t_end - t)
            if t + 1e-12 < t_stop < t + h:
                h = h_max = t_stop - t
            act = act0 + ctrl * t
            act = lo if act <= lo else hi if act >= hi else act
            rate = ctrl if ctrl != 0.0 and t < t_stop - 1e-12 else 0.0
            a1, b1, w1, n1 = f(s, ds, l, dl, act, rate)
            regime = self.regime
            x = -s if s < 0.0 else s
            for z0, z1 in zones:
                if z0 - zone_step < x < z1 + zone_step and abs(ds) * h > zone_step:
                    h = zone_step / abs(ds)
            # the predicted travel, widened by a quarter (the acceleration changes within the step)
            travel = ds * h + 0.5 * a1 * h * h
            lo_s, hi_s = (s - 0.25 * travel, s + 1.25 * travel) if travel >= 0.0 else (s + 1.25 * travel, s - 0.25 * travel)
            landing = None
            for b in breaks[bisect_right(breaks, lo_s):bisect_left(breaks, hi_s)]:
                if b != s:
                    disc = ds * ds + 2.0 * a1 * (b - s)
                    if abs(a1) > 1e-9 and disc >= 0.0:
                        r = math.sqrt(disc)
                        tau = min([y for y in ((-ds + r) / a1, (-ds - r) / a1) if y > 0.0], default=2.0 * h)
                    else:
                        tau = (b - s) / ds if ds * (b - s) > 0.0 else 2.0 * h
                    if tau < min(1.25 * h, h_max) and (landing is None or tau < h):
                        h, landing = max(tau, 1e-7), b
            side = None if landing is None else landing - math.copysign(1e-12, landing - s)
            if self.legs_locked:
                out = self._rk4(s, ds, l, dl, h, (a1, b1, w1, n1), act, rate, landing, side)
            elif regime == 0:  # the legs track: the stance in closed form, unless a limit starts acting
                out = self._rk4_tracking(s, ds, l, dl, h, (a1, b1, w1, n1), act, rate, landing, side)
            else:  # a limit or the stop acts: both coordinates together, kept if the regime holds all step
                out = self._rk4(s, ds, l, dl, h, (a1, b1, w1, n1), act, rate, landing, side, regime)
            if out is None:  # the legs' regime changes within the step: both coordinates in short steps
                n = max(1, math.ceil(h / FALLBACK_STEP_S - 1e-9))
                hs, k, out = h / n, (a1, b1, w1, n1), (s, ds, l, dl, 0.0, 0.0)
                for i in range(n):
                    si, dsi, li, dli, wi, ni = out
                    if i:
                        k = f(si, dsi, li, dli, act + rate * i * hs, rate)
                    step = self._rk4(si, dsi, li, dli, hs, k, act + rate * i * hs, rate, landing, side)
                    out = (*step[:4], out[4] + step[4], out[5] + step[5])
            s, ds, l, dl, dw, dn = out
            work += dw
            net += dn
            t += h
            if landing is not None and abs(s - landing) < 1e-4:
                # land on the break, just past it in the direction of motion, so that the next step's first
                # stage sees the new side (the position error is O(h^3), far below the energy tolerance)
                s = landing + math.copysign(1e-10, ds)
            if self.legs_locked:
                l, dl = self.l, 0.0
            elif l < self.p.stop_m:  # landing on the stop: inelastic in l, the coupled momentum kept
                mss, msl = self._mass(s, l)
                ds += msl * dl / mss
                l, dl = self.p.stop_m, 0.0
        self.s, self.ds, self.l, self.dl = s, ds, l, dl
        self.integrated_s = t  # the steps' sum: the control period (tests check it)
        self.net_work_j = net  # the legs' work, negative parts included (tests check the energy balance)
        act = act0 + ctrl * t_end
        self.act = lo if act <= lo else hi if act >= hi else act
        self.accel(s, ds, l, dl, self.act, 0.0)  # loads at the end of the step
        return work

    def _rk4(self, s: float, ds: float, l: float, dl: float, h: float, k1: tuple, act: float, rate: float,
             landing: float | None, side: float | None,
             regime: int | None = None) -> tuple[float, float, float, float, float, float] | None:
        """One classical RK4 step of the coupled coordinates from stage-1 values ``k1``; stages stay on this side
        of ``landing`` (a break the step was cut to end on). Returns the state and the legs' positive and net work;
        with ``regime``, None as soon as a stage finds the legs in another regime (a kink inside the step)."""
        f, hh = self.accel, 0.5 * h
        a1, b1, w1, n1 = k1
        s2, s3 = s + hh * ds, s + hh * (ds + hh * a1)
        if landing is not None:
            s2 = side if (s2 - landing) * (landing - s) >= 0.0 else s2
            s3 = side if (s3 - landing) * (landing - s) >= 0.0 else s3
        a2, b2, w2, n2 = f(s2, ds + hh * a1, l + hh * dl, dl + hh * b1, act + rate * hh, rate)
        if regime is not None and self.regime != regime:
            return None
        a3, b3, w3, n3 = f(s3, ds + hh * a2, l + hh * (dl + hh * b1), dl + hh * b2, act + rate * hh, rate)
        if regime is not None and self.regime != regime:
            return None
        s4 = s + h * (ds + hh * a2)
        if landing is not None and (s4 - landing) * (landing - s) >= 0.0:
            s4 = side
        a4, b4, w4, n4 = f(s4, ds + h * a3, l + h * (dl + hh * b2), dl + h * b3, act + rate * h, rate)
        if regime is not None and self.regime != regime:
            return None
        return (s + h * (ds + h / 6.0 * (a1 + a2 + a3)), ds + h / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4),
                l + h * (dl + h / 6.0 * (b1 + b2 + b3)), dl + h / 6.0 * (b1 + 2.0 * b2 + 2.0 * b3 + b4),
                h / 6.0 * (w1 + 2.0 * w2 + 2.0 * w3 + w4), h / 6.0 * (n1 + 2.0 * n2 + 2.0 * n3 + n4))

    def _rk4_tracking(self, s: float, ds: float, l: float, dl: float, h: float, k1: tuple, act: float, rate: float,
                      landing: float | None, side: float | None) -> tuple[float, float, float, float, float, float] | None:
        """As :meth:`_rk4`, with the stance following the tracking law exactly: the error e = l - target of a
        critically damped system under a ramp target is (e0 + (e0' + w e0) t) exp(-w t), so the stance is known
        in closed form and RK4 integrates only the slow position along the pipe. None when a stage finds a leg
        limit or the stop acting (then the caller integrates both coordinates in short steps)."""
        f, hh, w = self.accel, 0.5 * h, LEG_TRACKING_RADPS
        a1, _, w1, n1 = k1
        e0, ed0 = l - act, dl - rate
        b = ed0 + w * e0
        em, eh = math.exp(-w * hh), math.exp(-w * h)
        lm, dlm = act + rate * hh + (e0 + b * hh) * em, rate + (ed0 - w * b * hh) * em
        lh, dlh = act + rate * h + (e0 + b * h) * eh, rate + (ed0 - w * b * h) * eh
        s2, s3 = s + hh * ds, s + hh * (ds + hh * a1)
        if landing is not None:
            s2 = side if (s2 - landing) * (landing - s) >= 0.0 else s2
            s3 = side if (s3 - landing) * (landing - s) >= 0.0 else s3
        a2, _, w2, n2 = f(s2, ds + hh * a1, lm, dlm, act + rate * hh, rate)
        if self.regime:
            return None
        a3, _, w3, n3 = f(s3, ds + hh * a2, lm, dlm, act + rate * hh, rate)
        if self.regime:
            return None
        s4 = s + h * (ds + hh * a2)
        if landing is not None and (s4 - landing) * (landing - s) >= 0.0:
            s4 = side
        a4, _, w4, n4 = f(s4, ds + h * a3, lh, dlh, act + rate * h, rate)
        if self.regime:
            return None
        return (s + h * (ds + h / 6.0 * (a1 + a2 + a3)), ds + h / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4), lh, dlh,
                h / 6.0 * (w1 + 2.0 * w2 + 2.0 * w3 + w4), h / 6.0 * (n1 + 2.0 * n2 + 2.0 * n3 + n4))

    def _mass(self, s: float, l: float) -> tuple[float, float]:
        phi, _, _ = self.surface(s)
        th, th1, _ = self.pitch(s)
        m = self.p.rider_mass_kg
        csx, csz = math.cos(phi) - l * th1 * math.cos(th), math.sin(phi) - l * th1 * math.sin(th)
        inertia, _ = self.inertia(l)
        mss = m * (csx * csx + csz * csz) + (inertia + self.p.board_inertia_kgm2) * th1 * th1 + self.p.board_mass_kg
        return mss, m * (-csx * math.sin(th) + csz * math.cos(th))

    # -- read-outs ---------------------------------------------------------------------------------
    def kinematics(self) -> dict[str, float]:
        """Board point, pitch, rider CoM position/velocity, pitch rate, energies (J)."""
        p, s, ds, l, dl = self.p, self.s, self.ds, self.l, self.dl
        phi, _, _ = self.surface(s)
        th, th1, _ = self.pitch(s)
        px, pz = self.point(s)
        st, ct = math.sin(th), math.cos(th)
        cx, cz = px - l * st, pz + l * ct
        vx = (math.cos(phi) - l * th1 * ct) * ds - st * dl
        vz = (math.sin(phi) - l * th1 * st) * ds + ct * dl
        omega = th1 * ds
        inertia, _ = self.inertia(l)
        g = p.gravity_mps2
        rot = 0.5 * inertia * omega * omega
        board = 0.5 * p.board_mass_kg * ds * ds + 0.5 * p.board_inertia_kgm2 * omega * omega + p.board_mass_kg * g * pz
        energy = 0.5 * p.rider_mass_kg * (vx * vx + vz * vz) + rot + p.rider_mass_kg * g * cz + board
        return {"board_x": px, "board_z": pz, "pitch": th, "com_x": cx, "com_z": cz, "com_vx": vx, "com_vz": vz,
                "omega": omega, "rotation_energy_j": rot, "energy_j": energy}
