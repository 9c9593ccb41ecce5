import { describe, expect, it } from 'vitest';
import { fuzzTests } from '../../../test-support/fuzz.js';
import targets from '../fuzz/targets.js';

// Replays every saved finding and runs a short budget of fresh inputs per decoder (`pnpm fuzz` runs 1,000,000).
fuzzTests(new URL('..', import.meta.url), targets, { describe, it, expect });
