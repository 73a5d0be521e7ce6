package dev.reliablestore.cli;

/** The exit codes of every command; listed in {@code --help} and docs/cli.md. */
final class ExitCodes {

    /** The command did what was asked. */
    static final int OK = 0;
    /** The operation failed: unreachable store, I/O error, corrupt backup, wrong key… (the message says why). */
    static final int FAILED = 1;
    /** Bad usage or bad input: unknown option or store scheme, malformed JSON, invalid id. Nothing was changed. */
    static final int USAGE = 2;
    /** A check found problems: unhealthy cluster, corrupt entities, a migration that does not verify, a broken audit chain; a refused node operation. */
    static final int CHECK_FAILED = 3;
    /** The entity asked for does not exist ({@code get}, {@code delete}). */
    static final int NOT_FOUND = 4;
    /** An expected version did not match the stored one; nothing was written. */
    static final int CONFLICT = 5;
    /**
     * Stopped by Ctrl-C (SIGINT), as the shell reports it (the JVM exits with 143 for SIGTERM whatever a command returns,
     * except a restore signalled with no batch left to stop before: it finishes and exits with its own code).
     */
    static final int INTERRUPTED = 130;

    static final String[] HELP_LIST = {
            "0:success",
            "1:the operation failed (the message says why)",
            "2:bad usage or bad input (nothing was changed)",
            "3:a check found problems (health, verify, migrate verification, audit verify, zk secure --dry-run), or failover/drain/resume refused",
            "4:not found (get, delete)",
            "5:version conflict (put/delete with --expect-version)",
            "130:interrupted by Ctrl-C, 143 by SIGTERM (watch, migrate, restore: rerun migrate to resume, restore --force to finish)"};

    private ExitCodes() {
    }
}
