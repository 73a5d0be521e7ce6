package dev.reliablestore.cli;

import dev.reliablestore.cluster.audit.AuditLog;
import dev.reliablestore.cluster.audit.AuditRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code audit show} and {@code audit verify}: the provider's hash-chained audit logs. */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = {"Read and check the audit logs the cluster-registry provider writes with enableAuditLogging=true "
                + "(one file per node, <auditLogPath>/audit-<node>.log)."},
        subcommands = {AuditCommand.Show.class, AuditCommand.Verify.class},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:success", "1:the log cannot be read", "2:bad usage",
                "3:audit verify found an altered, removed or reordered record"})
final class AuditCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw CliException.usage("audit needs a subcommand: show or verify (see 'reliablestore audit --help')");
    }

    static Path existing(Path file) {
        if (!Files.isRegularFile(file)) {
            throw CliException.failed("audit log " + file + " does not exist or is not a file");
        }
        return file;
    }

    @Command(name = "show", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Print audit records (never values): seq, time, node, principal, operation, type/id, version, "
                    + "transaction; filtered by type, id or operation.",
                    "Example: reliablestore audit show --file /var/log/reliablestore/audit-node1.log --type Customer --id CUST-001"},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:printed", "1:the log cannot be read", "2:bad usage"})
    static final class Show implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(names = "--file", required = true, paramLabel = "FILE", description = "The audit log.")
        Path file;

        @Option(names = "--type", paramLabel = "TYPE", description = "Only records of this entity type.")
        String type;

        @Option(names = "--id", paramLabel = "ID", description = "Only records of this entity id.")
        String id;

        @Option(names = "--op", paramLabel = "OP", description = "Only this operation: save, delete, reencrypt, tx-commit, tx-rollback.")
        String op;

        @Option(names = "--limit", paramLabel = "N", description = "Only the last N matching records.")
        Integer limit;

        @Option(names = "--json", description = "Print a JSON array of records.")
        boolean json;

        @Override
        public Integer call() {
            if (limit != null && limit < 0) {
                throw CliException.usage("--limit must be 0 or more, got " + limit);
            }
            List<AuditRecord> records;
            try {
                records = AuditLog.read(existing(file));
            } catch (UncheckedIOException e) {
                throw CliException.failed(e.getMessage() + " (" + e.getCause().getClass().getSimpleName() + ")");
            }
            List<AuditRecord> shown = new ArrayList<>();
            for (AuditRecord r : records) {
                if ((type == null || type.equals(r.type())) && (id == null || id.equals(r.id())) && (op == null || op.equals(r.op()))) {
                    shown.add(r);
                }
            }
            if (limit != null && shown.size() > limit) {
                shown = shown.subList(shown.size() - limit, shown.size());
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(Json.write(shown));
            } else {
                for (AuditRecord r : shown) {
                    out.println(r.seq() + "\t" + r.time() + "\t" + r.node() + "\t" + r.principal() + "\t" + r.op() + "\t"
                            + (r.type() == null ? "-" : r.type() + "/" + r.id()) + "\t" + (r.type() == null ? "-" : "v" + r.version())
                            + (r.tx() == null ? "" : "\ttx " + r.tx()));
                }
            }
            out.flush();
            return ExitCodes.OK;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Check an audit log's hash chain: every record's SHA-256 over its contents and the previous record's "
                    + "hash, and the sequence numbers. An altered record, a removed one and records out of order are each "
                    + "reported by line. Prints the head hash: keep it elsewhere to detect records cut off the end later.",
                    "Example: reliablestore audit verify --file /var/log/reliablestore/audit-node1.log"},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:the chain is intact", "1:the log cannot be read",
                    "2:bad usage", "3:altered, removed or reordered records (listed)"})
    static final class Verify implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(names = "--file", required = true, paramLabel = "FILE", description = "The audit log.")
        Path file;

        @Option(names = "--expect-head", paramLabel = "HASH",
                description = "Also require a record with this hash: a head printed by an earlier verify, kept elsewhere. "
                        + "Records cut off the end since then are reported; records added since are not.")
        String expectHead;

        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;

        @Override
        public Integer call() {
            AuditLog.Verification v;
            try {
                v = AuditLog.verify(existing(file), expectHead);
            } catch (UncheckedIOException e) {
                throw CliException.failed(e.getMessage() + " (" + e.getCause().getClass().getSimpleName() + ")");
            }
            List<String> problems = new ArrayList<>();
            for (AuditLog.Problem p : v.problems()) {
                problems.add("line " + p.line() + ": " + p.description());
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(Json.write(Json.object("file", file.toString(), "records", v.records(), "head", v.head(),
                        "intact", problems.isEmpty(), "problems", problems)));
            } else {
                problems.forEach(out::println);
                out.println(problems.isEmpty()
                        ? "intact: " + v.records() + " records, head " + v.head()
                        : "BROKEN: " + problems.size() + " problem(s) in " + v.records() + " records of " + file);
            }
            out.flush();
            return problems.isEmpty() ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
        }
    }
}
