import { AppError, fail } from "../kernel/index.ts";
import { monotonicNow } from "./rateLimit.ts";

export interface LoginThrottleOptions {
  /** Failed checks of one email before it locks; an address gets four times as many. */
  maxFailures: number;
  /** The first lock's length; each further failure doubles it, up to `maxLockSeconds`. */
  lockSeconds: number;
  maxLockSeconds: number;
}

interface Failures {
  count: number;
  lockedUntil: number;
  last: number;
}

/** Addresses are shared (offices, NAT, a connector platform's egress): they get more tries. */
const ADDRESS_FACTOR = 4;
/** An address that signed in as an email stays trusted for it this long, through that email's locks. */
const TRUSTED_MS = 30 * 24 * 3600_000;
const MAX_ENTRIES = 100_000;

/**
 * Slows down password guessing (Basic email/password and the OAuth login form) per email and per
 * address: after `maxFailures` wrong passwords the email is locked for `lockSeconds`, doubling with
 * each further failure up to `maxLockSeconds`; a lock always ends, and a quiet period of
 * `maxLockSeconds` forgets the count. While locked, even the right password gets 429 (otherwise
 * the lock would only slow nothing down). So that an attacker cannot keep a user out by guessing
 * once per lock, an address that signed in as that email before is not held by the email's lock.
 *
 * In process memory: each process counts on its own, so N processes allow N times the tries
 * before locking (the lock is a brake, not a quota; README "Limits").
 */
export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();
  private readonly trusted = new Map<string, number>();

  constructor(private readonly options: LoginThrottleOptions) {}

  /** Seconds until `email` may be tried again from `address`; 0 when it may be tried now. */
  lockedFor(email: string, address: string): number {
    const now = monotonicNow();
    const emailKey = `e:${normalize(email)}`;
    const byEmail = this.trusted.get(`${emailKey}|${address}`) ?? 0;
    const emailLock = byEmail > now ? 0 : this.remaining(emailKey, now);
    return Math.max(emailLock, this.remaining(`a:${address}`, now));
  }

  /** Throws 429 `RATE_LIMITED` with Retry-After while `email` or `address` is locked. */
  check(email: string, address: string): void {
    const wait = this.lockedFor(email, address);
    if (wait > 0) {
      throw fail.rateLimited(
        `Too many failed sign-ins for this email or from this address; try again in ${wait} s.`,
        wait,
      );
    }
  }

  failed(email: string, address: string): void {
    const now = monotonicNow();
    this.record(`e:${normalize(email)}`, this.options.maxFailures, now);
    this.record(`a:${address}`, this.options.maxFailures * ADDRESS_FACTOR, now);
  }

  succeeded(email: string, address: string): void {
    const emailKey = `e:${normalize(email)}`;
    this.failures.delete(emailKey);
    this.trusted.set(`${emailKey}|${address}`, monotonicNow() + TRUSTED_MS);
  }

  /** Runs a password check under the throttle: refused while locked, counted when it fails. */
  guard<T>(email: string, address: string, verify: () => T | Promise<T>): T | Promise<T> {
    this.check(email, address);
    const result = verify();
    if (!(result instanceof Promise)) return result; // a cached success: no check ran
    return result.then(
      (value) => {
        this.succeeded(email, address);
        return value;
      },
      (error: unknown) => {
        if (error instanceof AppError && error.code === "UNAUTHENTICATED") this.failed(email, address);
        throw error;
      },
    );
  }

  private remaining(key: string, now: number): number {
    const entry = this.failures.get(key);
    if (!entry || entry.lockedUntil <= now) return 0;
    return Math.ceil((entry.lockedUntil - now) / 1000);
  }

  private record(key: string, threshold: number, now: number): void {
    const { lockSeconds, maxLockSeconds } = this.options;
    let entry = this.failures.get(key);
    if (!entry || now - entry.last > maxLockSeconds * 1000) entry = { count: 0, lockedUntil: 0, last: now };
    entry.count++;
    entry.last = now;
    if (entry.count >= threshold) {
      const seconds = Math.min(maxLockSeconds, lockSeconds * 2 ** (entry.count - threshold));
      entry.lockedUntil = now + seconds * 1000;
    }
    this.failures.set(key, entry);
    if (this.failures.size > MAX_ENTRIES) this.sweep(now);
  }

  /** Forgets counts that have gone quiet and trust that has expired. */
  sweep(now = monotonicNow()): void {
    const quiet = this.options.maxLockSeconds * 1000;
    for (const [key, entry] of this.failures) {
      if (now - entry.last > quiet && entry.lockedUntil <= now) this.failures.delete(key);
    }
    for (const [key, until] of this.trusted) if (until <= now) this.trusted.delete(key);
  }
}

function normalize(email: string): string {
  return email.trim().toLowerCase();
}
