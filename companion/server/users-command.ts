// `stylize users add|list|revoke`: the per-user tokens of a front door reachable on the LAN.
import type { Command } from "commander";
import { addUser, defaultUsersPath, listUsers, revokeUser } from "./users";

export function registerUsers(program: Command): void {
  const users = program.command("users").description("user tokens for `stylize serve --public` (stored hashed)");
  const file = ["--users-file <path>", "where the hashed tokens are kept", defaultUsersPath()] as const;
  const fail = (err: unknown) => {
    console.error(`stylize users: ${(err as Error).message}`);
    process.exitCode = 1;
  };
  users
    .command("add <name>")
    .description("add a user and print their token (shown once; only its hash is stored)")
    .option(...file)
    .action((name: string, flags: { usersFile: string }) => {
      try {
        const token = addUser(name, flags.usersFile);
        console.log(`Token for ${name}: ${token}`);
        console.log("Give it to them privately: it is shown only now. They paste it into the plugin's token field.");
      } catch (err) {
        fail(err);
      }
    });
  users
    .command("list")
    .description("list users (names and when they were added)")
    .option(...file)
    .action((flags: { usersFile: string }) => {
      try {
        const list = listUsers(flags.usersFile);
        if (list.length === 0) console.log("No users yet: `stylize users add <name>`.");
        for (const u of list) console.log(`${u.name}\tadded ${u.created}`);
      } catch (err) {
        fail(err);
      }
    });
  users
    .command("revoke <name>")
    .description("remove a user: their token stops working at their next sign-in")
    .option(...file)
    .action((name: string, flags: { usersFile: string }) => {
      try {
        if (revokeUser(name, flags.usersFile)) console.log(`Revoked ${name}.`);
        else fail(new Error(`there is no user "${name}"`));
      } catch (err) {
        fail(err);
      }
    });
}
