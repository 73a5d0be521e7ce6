package dev.reliablestore.cli;

import dev.reliablestore.registry.zookeeper.ZooKeeperSecure;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code zk}: ZooKeeper maintenance; {@code zk secure} applies the configured ACL to every znode of a store's chroot. */
@Command(name = "zk", mixinStandardHelpOptions = true,
        description = {"ZooKeeper maintenance of a zookeeper:// store."},
        subcommands = {ZkCommand.Secure.class},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:success", "1:the operation failed", "2:bad usage"})
final class ZkCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        throw CliException.usage("zk needs a subcommand: secure (see 'reliablestore zk --help')");
    }

    /** Lines of changed znodes printed before "… and N more". */
    static final int SHOWN = 20;

    @Command(name = "secure", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Give the chroot of a zookeeper:// store and every znode below it exactly the ACL of the configured credentials "
                    + "(digest=user:password from --registry-secret-env/--registry-secret-file, --registry-option or the store URI's query), pass after pass until a pass changes "
                    + "nothing, then write the ACL-verified marker the store needs to open. Safe while the store is in use. The znodes above "
                    + "the chroot are left alone.",
                    "Example: reliablestore zk secure --store zookeeper://zk1:2181/reliablestore --registry-secret-env digest=ZK_DIGEST --dry-run"},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:secured (or, with --dry-run, nothing to change)",
                    "1:a znode's ACL cannot be read or set with these credentials, no such chroot, or ZooKeeper unreachable",
                    "2:bad usage (not a zookeeper:// store, no digest credentials)", "3:--dry-run found znodes to change, or no marker that stands for the subtree"})
    static final class Secure implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(names = "--store", paramLabel = "STORE", defaultValue = "${env:RELIABLESTORE_STORE}",
                description = "The store: zookeeper://host:port[,host:port…]/<chroot>. Default: $RELIABLESTORE_STORE.")
        String store;

        @Mixin
        RegistryOptions registry = new RegistryOptions();

        @Option(names = "--dry-run", description = "Only report the znodes whose ACL differs; write nothing.")
        boolean dryRun;

        @Option(names = "--json", description = "Print the result as one JSON object.")
        boolean json;

        @Override
        public Integer call() {
            StoreLocation where = StoreLocation.parse(store);
            if (!where.cluster() || !where.registry().startsWith("zookeeper:")) {
                throw CliException.usage("zk secure works on zookeeper:// stores, not on " + where.describe());
            }
            URI uri;
            try {
                uri = URI.create(where.registry());
            } catch (IllegalArgumentException e) {
                throw CliException.usage("store " + where.describe() + " is not a valid URI: " + e.getMessage());
            }
            ZooKeeperSecure.Result r = ZooKeeperSecure.secure(uri, registry.resolved(), dryRun);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                List<Object> passes = new ArrayList<>();
                for (ZooKeeperSecure.Pass p : r.passes()) {
                    passes.add(Json.object("checked", p.checked(), "changed", p.changed()));
                }
                List<Object> changes = new ArrayList<>();
                for (ZooKeeperSecure.Change c : r.changes()) {
                    changes.add(Json.object("znode", c.znode(), "acl", c.acl()));
                }
                out.println(Json.write(Json.object("store", r.store(), "chroot", r.chroot(), "acl", r.acl(), "dryRun", r.dryRun(),
                        "passes", passes, "changed", r.changed(), "changes", changes, "unlisted", r.unlisted(), "marker", r.marker(),
                        "markerStood", r.markerStood(), "markerWritten", r.markerWritten())));
            } else {
                int shown = Math.min(SHOWN, r.changes().size());
                for (ZooKeeperSecure.Change c : r.changes().subList(0, shown)) {
                    out.println((r.dryRun() ? "would set " : "set ") + c.znode() + " (was " + c.acl() + ")");
                }
                if (r.changed() > shown) {
                    out.println("… and " + (r.changed() - shown) + " more");
                }
                for (int i = 0; i < r.passes().size(); i++) {
                    ZooKeeperSecure.Pass p = r.passes().get(i);
                    out.println("pass " + (i + 1) + ": checked " + p.checked() + " znodes, " + (r.dryRun() ? "would change " : "changed ") + p.changed());
                }
                if (r.unlisted() > 0) {
                    out.println(r.unlisted() + " znode(s) grant no READ, so their children were not listed; zk secure lists them once it has set their ACL");
                }
                if (r.dryRun() && !r.markerStood()) {
                    out.println("the marker " + r.marker() + " is missing or does not prove who wrote it: zk secure writes it (until then an open"
                            + " of " + r.chroot() + " with data is refused)");
                }
                if (r.dryRun()) {
                    out.println("dry run: " + (r.changed() == 0 ? "every znode of " + r.chroot() + " carries " + r.acl()
                            : r.changed() + " znode(s) of " + r.chroot() + " would get " + r.acl()) + "; nothing was written");
                } else {
                    out.println("secured " + r.chroot() + " of " + r.store() + ": every znode carries " + r.acl() + "; marker " + r.marker() + " written");
                }
            }
            out.flush();
            return r.dryRun() && (r.changed() > 0 || r.unlisted() > 0 || !r.markerStood()) ? ExitCodes.CHECK_FAILED : ExitCodes.OK;
        }
    }
}
