import { describe, expect, it } from 'vitest';
import { attackTests } from '../../../test-support/attack.js';
import scenarios from '../attack/scenarios.js';

// Every attack on its short budget (`pnpm attack` runs the full one and prints the table).
attackTests(scenarios, { describe, it, expect });
