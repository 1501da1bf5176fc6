// The command registry: an explicit list, no import side effects.

import { advisoriesCommand } from "./advisories.js";
import { agentCommand } from "./agent.js";
import { alertsCommand } from "./alerts.js";
import { applyCommand } from "./apply.js";
import { checkCommand } from "./check.js";
import { collectCommand } from "./collect.js";
import { logsCommand } from "./logs.js";
import { planCommand } from "./plan.js";
import { rollbackCommand } from "./rollback.js";
import { scanCommand } from "./scan.js";
import type { Command } from "./types.js";

export const COMMAND_LIST: readonly Command[] = [
  scanCommand,
  collectCommand,
  logsCommand,
  advisoriesCommand,
  checkCommand,
  agentCommand,
  planCommand,
  applyCommand,
  rollbackCommand,
  alertsCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMAND_LIST.find((c) => c.name === name);
}
