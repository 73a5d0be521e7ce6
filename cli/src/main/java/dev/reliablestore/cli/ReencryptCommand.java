package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.cluster.ClusterPersistenceStore;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.ChangeBatch;
import dev.reliablestore.registry.ChangeListener;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.Watch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

/** {@code reencrypt}: rewrites every value under an older key under the active one, after a key rotation. */
@Command(name = "reencrypt", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"After a key rotation: rewrite every value that is encrypted with an older key under the current key, "
                + "keeping its version, so older keys can be retired. Give the current key and every older key still "
                + "in use. Each rewrite is conditional on the value not having changed meanwhile (a concurrent writer already "
                + "uses the current key), so applications may keep running; safe to run again. Progress is counted from the "
                + "store's change feed. Values stored in clear are encrypted only with --encrypt-values-in-clear.",
                "Example: RS_NEW=… RS_OLD=… reliablestore reencrypt --store embedded:./data --passphrase-env RS_NEW "
                        + "--previous-passphrase-env RS_OLD"},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:every value is under the current key",
                "1:failed (e.g. a value needs a key that was not given, or the root holds no store)", "2:bad usage (no key given, file: store)",
                "3:some values are still under an older key afterwards"})
final class ReencryptCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--type", paramLabel = "TYPE", description = "Re-encrypt this type only (repeatable). Default: every type.")
    List<String> types = new ArrayList<>();

    @Option(names = "--encrypt-values-in-clear", description = "Also encrypt the values stored in clear: those written before "
            + "encryption was switched on. A value planted in clear by someone who can write the registry looks the same, and "
            + "this makes it authentic: use it right after switching encryption on, or after checking those values.")
    boolean encryptValuesInClear;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    /**
     * Values under older keys, then, when asked, values in clear: a value of the first kind that cannot be
     * re-sealed must not keep the second from being done on every run.
     */
    private long rewrite(ClusterPersistenceStore<JsonNode> s, long inClear) {
        long rewritten = 0;
        RuntimeException failed = null;
        try {
            rewritten += s.reencrypt();
        } catch (RuntimeException e) {
            failed = e;
        }
        if (encryptValuesInClear && inClear > 0) {
            try {
                rewritten += s.encryptValuesInClear();
            } catch (RuntimeException e) {
                if (failed == null) {
                    failed = e;
                } else {
                    failed.addSuppressed(e);
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
        return rewritten;
    }

    @SuppressWarnings("try") // the progress watch is held open while the rewrite runs, never used by name
    @Override
    public Integer call() {
        types.forEach(EntityCommands::checkType);
        StoreSpec target = store.spec();
        if (!target.keys().present() && target.location().cluster()) {
            throw CliException.usage("reencrypt needs the current key (--passphrase-env/--passphrase-file or --key-store) and the "
                    + "older keys still in use (--previous-passphrase-env/--previous-passphrase-file, or all in the key store)");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (StoreSession session = StoreSession.open(target, StoreSession.Access.EXISTING, true)) {
            ClusterRegistry registry = session.registry("reencrypt");
            if (session.stored("reencrypt").layoutVersion().isEmpty()) {
                // a mistyped or forgotten root: opening the provider would create a store there with a fresh salt, and
                // "every value is under the active key" would have the old key retired while the real root still needs it
                throw CliException.failed("nothing to re-encrypt: " + session.describe()
                        + " holds no store (check --resource-group and --key-path)");
            }
            List<String> all = session.typeNames();
            List<String> chosen = types.isEmpty() ? all : types;
            for (String t : chosen) {
                if (!all.contains(t)) {
                    throw CliException.usage("type " + t + " does not exist in " + session.describe() + "; types: " + all);
                }
            }
            session.requireToolCodec(chosen);
            String active = session.activeKeyId();
            // every store opened before the first rewrite: a type refused (another codec) fails the command while nothing changed
            Map<String, ClusterPersistenceStore<JsonNode>> stores = new LinkedHashMap<>();
            for (String type : chosen) {
                stores.put(type, session.clusterStore(type));
            }
            Map<String, Object> results = new LinkedHashMap<>();
            Map<String, RuntimeException> failed = new LinkedHashMap<>();
            long stale = 0;
            long leftInClear = 0;
            long rewrittenTotal = 0;
            for (String type : chosen) {
                Progress[] shown = {null};
                try {
                    ClusterPersistenceStore<JsonNode> s = stores.get(type);
                    Map<String, Long> before = s.keyUsage();
                    long total = before.values().stream().mapToLong(Long::longValue).sum();
                    long inClear = before.getOrDefault("", 0L);
                    long todo = total - before.getOrDefault(active, 0L) - (encryptValuesInClear ? 0 : inClear);
                    Progress progress = new Progress(err, Progress.onTerminal(), "reencrypt " + type, todo, Duration.ofSeconds(1));
                    shown[0] = progress;
                    Set<String> seen = ConcurrentHashMap.newKeySet();
                    StorageLayout layout = session.layout();
                    long rewritten;
                    try (Watch feed = registry.watch(layout.versions(type), new ChangeListener() {
                        @Override
                        public void onBatch(ChangeBatch batch) {
                            for (Change c : batch.changes()) {
                                if (c instanceof Change.ValueSet v && seen.add(v.name())) {
                                    progress.update(Math.min(todo, seen.size()));
                                }
                            }
                        }

                        @Override
                        public void onResync(String reason) {
                            // progress only: the rewrite itself does not depend on the feed
                        }
                    })) {
                        rewritten = todo == 0 ? 0 : rewrite(s, inClear);
                    }
                    progress.update(Math.min(todo, Math.max(seen.size(), rewritten)));
                    progress.finish();
                    Map<String, Long> after = s.keyUsage();
                    long left = after.entrySet().stream().filter(e -> !e.getKey().equals(active)).mapToLong(Map.Entry::getValue).sum();
                    stale += left;
                    leftInClear += after.getOrDefault("", 0L);
                    rewrittenTotal += rewritten;
                    results.put(type, Json.object("rewritten", rewritten, "keyUsageBefore", before, "keyUsageAfter", after,
                            "notUnderActiveKey", left));
                    if (!json) {
                        out.println(type + ": rewrote " + rewritten + " of " + total + " values; key usage " + before + " -> " + after);
                        out.flush();
                    }
                } catch (RuntimeException stopped) {
                    // the values rewritten stay under the new key ("bad usage, nothing changed", exit 2, would be false),
                    // and the other types are still rewritten
                    if (shown[0] != null) {
                        shown[0].finish();
                    }
                    failed.put(type, stopped);
                    String why = ReliableStoreCli.oneLine(String.valueOf(stopped.getMessage()));
                    results.put(type, Json.object("unfinished", why));
                    if (!json) {
                        out.println(type + ": did not finish: " + why);
                        out.flush();
                    }
                }
            }
            if (json) {
                out.println(Json.write(Json.object("activeKey", active, "rewritten", rewrittenTotal, "types", results,
                        "notUnderActiveKey", stale, "inClear", leftInClear, "unfinished", new ArrayList<>(failed.keySet()))));
            } else if (!failed.isEmpty()) {
                out.println("types " + failed.keySet() + " did not finish; of the others, " + stale + " values are not under the active key "
                        + active);
            } else {
                out.println(stale == 0 ? "every value is under the active key " + active
                        : stale + " values are still not under the active key " + active + (leftInClear == 0 ? "" : ", " + leftInClear
                                + " of them in clear (--encrypt-values-in-clear encrypts those written before encryption was switched on)")
                                + " (the writes of prepared transactions count until they end: finish them with the coordinator's"
                                + " recover, then run reencrypt again; at a site of a multi-site store, so do the merges it owes,"
                                + " until a process with the type's merger makes them)");
            }
            out.flush();
            if (!failed.isEmpty()) {
                StringBuilder why = new StringBuilder();
                failed.forEach((type, e) -> why.append(why.length() == 0 ? "" : "; ").append(type).append(": ")
                        .append(ReliableStoreCli.oneLine(String.valueOf(e.getMessage()))));
                throw CliException.failed("reencrypt did not finish " + failed.keySet() + " (the values it rewrote stay under the active key): "
                        + why + "; fix the cause and run the same command again", failed.values().iterator().next());
            }
            return stale == 0 ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
        }
    }
}
