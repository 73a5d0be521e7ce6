package dev.reliablestore.cli;

import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.cluster.backup.BackupFile;
import dev.reliablestore.cluster.backup.BackupFormatException;
import dev.reliablestore.cluster.backup.RegistrySnapshot;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryLimits;
import dev.reliablestore.registry.RegistryException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryStoppedException;
import dev.reliablestore.registry.RegistryUnavailableException;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.Callable;

/** {@code restore}: writes a backup into a cluster-registry store, after checking the file. */
@Command(name = "restore", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Restore a backup into a store. The file's checksum and structure are checked before the store is "
                + "even opened. A store that holds entities under the root is refused unless --force, which replaces "
                + "everything under the root. Values go back under the same root they were taken from (encrypted and "
                + "checksummed values are bound to it). Large backups are written in several batches; the restored "
                + "contents are read back and compared with the backup at the end. Stop applications using the store "
                + "first; if a restore is interrupted, run it again with --force.",
                "Example: reliablestore restore --store embedded:./restored --in store.rsbackup"},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:restored and verified",
                "1:failed (corrupt or unreadable backup, target not empty, store unreachable)", "2:bad usage",
                "3:restored, but the store's contents differ from the backup (someone wrote meanwhile)"})
final class RestoreCommand implements Callable<Integer> {

    /** Commands per batch at most, whatever the backend allows (keeps each commit a few MiB). */
    static final int MAX_COMMANDS_PER_BATCH = 4000;

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--in", required = true, paramLabel = "FILE", description = "The backup file to restore.")
    Path in;

    @Option(names = "--force", description = "Replace whatever the store holds under the root.")
    boolean force;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() {
        StoreSpec target = store.spec();
        BackupFile.Contents backup;
        try {
            backup = BackupFile.read(in);
        } catch (BackupFormatException e) {
            throw CliException.failed(e.getMessage());
        }
        RegistryPath root = backup.root();
        if (!target.explicitRoot()) {
            if (root.depth() < 2) {
                throw CliException.failed("backup " + in + " names root \"" + root + "\", which is no resource group/key path");
            }
            target = target.withRoot(root.segments().get(0), String.join("/", root.segments().subList(1, root.depth())));
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (StoreSession session = StoreSession.open(target, StoreSession.Access.CREATE)) {
            ClusterRegistry registry = session.registry("restore");
            if (!session.layout().root().equals(root)) {
                throw CliException.usage("backup " + in + " holds root " + root + " but the target is configured for "
                        + session.layout().root() + "; values are bound to the root they were written under, so restore to "
                        + "the same --resource-group and --key-path (the default is the backup's)");
            }
            Map<String, Long> existing = session.counts();
            long holding = existing.values().stream().mapToLong(Long::longValue).sum();
            if (holding > 0 && !force) {
                throw CliException.failed("the target " + session.describe() + " already holds " + holding + " entities " + existing
                        + "; refusing to overwrite them (use --force to replace everything under the root)");
            }
            RegistryLimits limits = registry.limits();
            List<WriteBatch> batches = plan(backup.snapshot(), root, limits);
            for (WriteBatch b : batches) {
                // checked before the first batch, which deletes the root: a refusal half-way would leave it half restored
                for (BatchCommand c : b.commands()) {
                    if (c instanceof BatchCommand.SetValue v && v.value().size() > limits.maxValueSize()) {
                        throw CliException.failed("the backup holds a value of " + v.value().size() + " bytes (" + v.key() + " " + v.name()
                                + "); " + session.describe() + " takes at most " + limits.maxValueSize() + " bytes a value; nothing was changed");
                    }
                }
                if (b.encodedSize() > limits.maxBatchBytes() || b.size() > limits.maxBatchCommands()) {
                    throw CliException.failed("the backup holds an entity whose writes take " + b.encodedSize() + " bytes in "
                            + b.size() + " commands; " + session.describe() + " takes at most " + limits.maxBatchBytes() + " bytes and "
                            + limits.maxBatchCommands() + " commands a batch; nothing was changed");
                }
            }
            Progress progress = new Progress(err, Progress.onTerminal(), "restore", backup.snapshot().valueCount(), Duration.ofSeconds(1));
            int applied = 0;
            for (WriteBatch b : batches) {
                try {
                    registry.commit(b);
                } catch (RuntimeException e) {
                    if (applied == 0 && !mayHaveApplied(e)) {
                        throw e; // the first batch, which deletes the root, did not apply: nothing was changed
                    }
                    throw CliException.failed("restore stopped after " + applied + " of " + batches.size() + " batches: the target "
                            + session.describe() + " is partly restored (what it held before is gone): " + e.getMessage()
                            + "; run restore --force again");
                }
                applied++;
                progress.advance(b.commands().stream().filter(c -> c instanceof BatchCommand.SetValue).count());
            }
            progress.finish();
            RegistrySnapshot now = RegistrySnapshot.take(registry, root);
            String expected = backup.metadata().path("contentSha256").asText();
            boolean verified = now.contentDigest().equals(expected) && now.contentDigest().equals(backup.snapshot().contentDigest());
            Map<String, Long> entities = now.entityCounts();
            long total = entities.values().stream().mapToLong(Long::longValue).sum();
            if (json) {
                out.println(Json.write(Json.object("restored", true, "verified", verified, "target", registry.uri(),
                        "root", root.toString(), "backupSequence", backup.snapshot().sequence(), "source", backup.source(),
                        "batches", batches.size(), "keys", now.keys().size(), "values", now.valueCount(), "entities", entities)));
            } else {
                out.println("restored " + in + " (" + backup.source() + " as of sequence " + backup.snapshot().sequence() + ") into "
                        + session.describe() + " in " + batches.size() + " batch(es): " + total + " entities in " + entities.size()
                        + " type(s) " + entities);
                out.println(verified ? "verified: the store's contents equal the backup (sha256 " + expected + ")"
                        : "NOT VERIFIED: the store's contents differ from the backup; something wrote to it during the restore");
            }
            out.flush();
            return verified ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
        }
    }

    /**
     * The batches that replace everything under {@code root} with the snapshot: the first deletes the
     * root; an entity's envelope and its version record always share a batch (so they share a revision,
     * as the provider requires); batches stay within the backend's limits.
     */
    static List<WriteBatch> plan(RegistrySnapshot snapshot, RegistryPath root, RegistryLimits limits) {
        List<List<BatchCommand>> groups = new ArrayList<>();
        // the configuration (layout version, key salt, dictionaries) first, then the rest, keys in order
        List<RegistryPath> order = new ArrayList<>();
        snapshot.keys().keySet().stream().filter(k -> !k.isRoot() && k.segments().get(0).equals(StorageLayout.CONFIGURATION)).forEach(order::add);
        snapshot.keys().keySet().stream().filter(k -> !order.contains(k)).forEach(order::add);
        for (RegistryPath rel : order) {
            SortedMap<String, RegistryValue> values = snapshot.keys().get(rel);
            RegistryPath key = root.resolve(rel);
            List<String> s = rel.segments();
            boolean typeKey = s.size() == 2 && s.get(0).equals(StorageLayout.ENTITIES);
            boolean versionsKey = s.size() == 3 && s.get(0).equals(StorageLayout.ENTITIES) && s.get(2).equals(StorageLayout.VERSIONS);
            if (versionsKey && snapshot.keys().containsKey(rel.parent())) {
                // added with the envelopes of its type key, except records that have no envelope
                SortedMap<String, RegistryValue> envelopes = snapshot.keys().get(rel.parent());
                if (values.isEmpty()) {
                    groups.add(List.of(new BatchCommand.CreateKey(key))); // left empty by deletes: part of the contents
                }
                values.forEach((id, v) -> {
                    if (!envelopes.containsKey(id)) {
                        groups.add(List.of(new BatchCommand.SetValue(key, id, v)));
                    }
                });
                continue;
            }
            if (values.isEmpty()) {
                groups.add(List.of(new BatchCommand.CreateKey(key)));
                continue;
            }
            SortedMap<String, RegistryValue> versions = typeKey ? snapshot.keys().get(rel.child(StorageLayout.VERSIONS)) : null;
            for (Map.Entry<String, RegistryValue> v : values.entrySet()) {
                List<BatchCommand> group = new ArrayList<>(2);
                group.add(new BatchCommand.SetValue(key, v.getKey(), v.getValue()));
                if (versions != null && versions.containsKey(v.getKey())) {
                    group.add(new BatchCommand.SetValue(key.child(StorageLayout.VERSIONS), v.getKey(), versions.get(v.getKey())));
                }
                groups.add(group);
            }
        }
        int maxCommands = Math.min(MAX_COMMANDS_PER_BATCH, limits.maxBatchCommands());
        long maxBytes = limits.maxBatchBytes() * 3 / 4;
        List<WriteBatch> batches = new ArrayList<>();
        List<BatchCommand> current = new ArrayList<>();
        current.add(new BatchCommand.DeleteKey(root));
        long bytes = size(current);
        for (List<BatchCommand> g : groups) {
            long gBytes = size(g);
            if (!current.isEmpty() && (current.size() + g.size() > maxCommands || bytes + gBytes > maxBytes)) {
                batches.add(WriteBatch.of(current));
                current = new ArrayList<>();
                bytes = 0;
            }
            current.addAll(g);
            bytes += gBytes;
        }
        if (!current.isEmpty()) {
            batches.add(WriteBatch.of(current));
        }
        return batches;
    }

    /** Whether a failed commit may still have applied its batch. */
    private static boolean mayHaveApplied(RuntimeException e) {
        return !(e instanceof RegistryException) || e instanceof RegistryUnavailableException u && u.outcomeUnknown()
                || e instanceof RegistryStoppedException s && s.outcomeUnknown();
    }

    private static long size(List<BatchCommand> commands) {
        return WriteBatch.of(commands).encodedSize();
    }
}
