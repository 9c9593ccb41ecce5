import { describe, expect, it } from 'vitest';
import { attackTests } from '../../../test-support/attack.js';
import scenarios from '../attack/scenarios.js';

// Every attack on its short budget (`pnpm attack` runs the full one and prints the table). Each starts two `cam`
// processes from source, so the budget per scenario is longer than the packages' default.
attackTests(scenarios, { describe, it, expect }, 60_000);
