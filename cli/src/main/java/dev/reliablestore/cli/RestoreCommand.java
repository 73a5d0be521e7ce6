package dev.reliablestore.cli;

import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.cluster.backup.BackupFile;
import dev.reliablestore.cluster.backup.BackupFormatException;
import dev.reliablestore.cluster.backup.RegistrySnapshot;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryLimitException;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/** {@code restore}: writes a backup into a cluster-registry store, after checking the file. */
@Command(name = "restore", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Restore a backup into a store. The file's checksum and structure are checked before the store is "
                + "even opened. A store that holds entities under the root is refused unless --force, which replaces "
                + "everything under the root: what it holds is deleted first, in batches. Values go back under the "
                + "same root they were taken from (encrypted and checksummed values are bound to it). Large backups are "
                + "written in several batches; the restored contents are read back and compared with the backup at the "
                + "end. Stop applications using the store first; if a restore is interrupted, run it again with --force. "
                + "Values are written as they were stored: key options and --no-compression do not apply.",
                "Example: reliablestore restore --store embedded:./restored --in store.rsbackup"},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:restored and verified",
                "1:failed (corrupt or unreadable backup, target not empty, store unreachable, stopped part-way: the message says "
                + "what the target is left as)", "2:bad usage (e.g. a file: store, a key option)",
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
        StoreOptions.refuseSealingOptions(spec, "restore writes the backup's values as they were stored (encrypted ones stay encrypted,"
                + " compressed ones compressed; no key is needed)");
        StoreSpec target = store.spec();
        if (!target.location().cluster()) {
            // before the root is taken from the backup: that would make the message about --resource-group instead
            throw StoreSession.needsCluster("restore", target.location());
        }
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
            List<List<List<BatchCommand>>> batches = plan(backup.snapshot(), root, limits);
            for (List<List<BatchCommand>> b : batches) {
                // checked before the first batch is written: a refusal half-way would leave the target half restored
                for (List<BatchCommand> group : b) {
                    for (BatchCommand c : group) {
                        if (c instanceof BatchCommand.SetValue v && v.value().size() > limits.maxValueSize()) {
                            throw CliException.failed("the backup holds a value of " + v.value().size() + " bytes (" + v.key() + " " + v.name()
                                    + "); " + session.describe() + " takes at most " + limits.maxValueSize() + " bytes a value; nothing was changed");
                        }
                    }
                    long bytes = size(group);
                    if (bytes > limits.maxBatchBytes() || group.size() > limits.maxBatchCommands()) {
                        throw CliException.failed("the backup holds an entity whose writes take " + bytes + " bytes in "
                                + group.size() + " commands; " + session.describe() + " takes at most " + limits.maxBatchBytes() + " bytes and "
                                + limits.maxBatchCommands() + " commands a batch; nothing was changed");
                    }
                }
            }
            List<List<List<BatchCommand>>> deletes = deletions(RegistrySnapshot.take(registry, root), root, limits);
            Applied applied = new Applied(deletes.size() + batches.size());
            try {
                commit(registry, deletes, applied, b -> { });
            } catch (RuntimeException e) {
                throw stopped(applied, e, session, true);
            }
            Progress progress = new Progress(err, Progress.onTerminal(), "restore", backup.snapshot().valueCount(), Duration.ofSeconds(1));
            try {
                commit(registry, batches, applied,
                        b -> progress.advance(b.commands().stream().filter(c -> c instanceof BatchCommand.SetValue).count()));
            } catch (RuntimeException e) {
                throw stopped(applied, e, session, false);
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
                        "batches", applied.done, "keys", now.keys().size(), "values", now.valueCount(), "entities", entities)));
            } else {
                out.println("restored " + in + " (" + backup.source() + " as of sequence " + backup.snapshot().sequence() + ") into "
                        + session.describe() + " in " + applied.done + " batch(es): " + total + " entities in " + entities.size()
                        + " type(s) " + entities);
                out.println(verified ? "verified: the store's contents equal the backup (sha256 " + expected + ")"
                        : "NOT VERIFIED: the store's contents differ from the backup; something wrote to it during the restore");
            }
            out.flush();
            return verified ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
        }
    }

    /**
     * Commits {@code batches} (of {@link #deletions} or {@link #plan}) in order, counting each in
     * {@code applied} and passing it to {@code committed}; a batch the backend refuses as too large
     * (nothing of it was sent) goes as two halves instead, never splitting a group.
     */
    static void commit(ClusterRegistry registry, List<List<List<BatchCommand>>> batches, Applied applied, Consumer<WriteBatch> committed) {
        Deque<List<List<BatchCommand>>> pending = new ArrayDeque<>(batches);
        while (!pending.isEmpty()) {
            List<List<BatchCommand>> groups = pending.poll();
            WriteBatch batch = WriteBatch.of(groups.stream().flatMap(List::stream).toList());
            try {
                registry.commit(batch);
            } catch (RegistryLimitException tooLarge) {
                if (groups.size() == 1) {
                    throw tooLarge;
                }
                // a backend may ship more than a batch's encoded size says (ZooKeeper: each value's name in its full,
                // escaped znode path and in the change-log entry, the parent's version bump, an ACL per created znode)
                pending.addFirst(groups.subList(groups.size() / 2, groups.size()));
                pending.addFirst(groups.subList(0, groups.size() / 2));
                applied.total++;
                continue;
            }
            applied.done++;
            committed.accept(batch);
        }
    }

    /** Batches committed so far, of how many. */
    static final class Applied {
        int done;
        int total;

        Applied(int total) {
            this.total = total;
        }
    }

    /** The error for a commit that failed: unchanged when nothing was changed yet, else what the target is left as. */
    private RuntimeException stopped(Applied applied, RuntimeException e, StoreSession session, boolean deleting) {
        if (applied.done == 0 && !mayHaveApplied(e)) {
            return e; // the first batch did not apply: nothing was changed
        }
        String left = deleting
                ? " is partly deleted (part of what it held is gone, nothing of the backup is written yet): "
                : " is partly restored (what it held before is gone): ";
        return CliException.failed("restore stopped after " + applied.done + " of " + applied.total + " batches: the target "
                + session.describe() + left + e.getMessage() + "; run restore --force again", e);
    }

    /**
     * The batches that delete everything {@code held} under {@code root}, each a list of groups that
     * a batch never splits: an entity's envelope and version record go together, so a restore
     * interrupted while deleting leaves whole entities; the types' descriptors, then the configuration
     * (layout, key salt, dictionaries) go after every entity, so those left still read; keys go last, each after
     * everything below it, the root last of all. Small enough for every backend's request, unlike
     * one delete of the root, which a backend may expand into one delete per stored node.
     */
    static List<List<List<BatchCommand>>> deletions(RegistrySnapshot held, RegistryPath root, RegistryLimits limits) {
        List<List<BatchCommand>> groups = new ArrayList<>();
        // a type's descriptor goes after every entity (it says which codec wrote them and that they are encrypted: a
        // type left without it, by an interrupted restore, would get a new one from whoever opens it next)
        List<List<BatchCommand>> descriptors = new ArrayList<>();
        List<RegistryPath> configuration = new ArrayList<>();
        for (RegistryPath rel : held.keys().keySet()) {
            if (!rel.isRoot() && rel.segments().get(0).equals(StorageLayout.CONFIGURATION)) {
                configuration.add(rel);
                continue;
            }
            List<String> s = rel.segments();
            boolean typeKey = s.size() == 2 && s.get(0).equals(StorageLayout.ENTITIES);
            boolean versionsKey = s.size() == 3 && s.get(0).equals(StorageLayout.ENTITIES) && s.get(2).equals(StorageLayout.VERSIONS);
            SortedMap<String, RegistryValue> envelopes = versionsKey ? held.keys().get(rel.parent()) : null;
            SortedMap<String, RegistryValue> versions = typeKey ? held.keys().get(rel.child(StorageLayout.VERSIONS)) : null;
            RegistryPath key = root.resolve(rel);
            for (String name : held.keys().get(rel).keySet()) {
                if (envelopes != null && envelopes.containsKey(name)) {
                    continue; // deleted with its envelope
                }
                List<BatchCommand> group = new ArrayList<>(2);
                group.add(new BatchCommand.DeleteValue(key, name));
                if (versions != null && versions.containsKey(name)) {
                    group.add(new BatchCommand.DeleteValue(key.child(StorageLayout.VERSIONS), name));
                }
                (typeKey && name.equals(StorageLayout.METADATA) ? descriptors : groups).add(group);
            }
        }
        groups.addAll(descriptors);
        for (RegistryPath rel : configuration) {
            RegistryPath key = root.resolve(rel);
            held.keys().get(rel).keySet().forEach(name -> groups.add(List.of(new BatchCommand.DeleteValue(key, name))));
        }
        // sorted, a key comes before every key below it
        List<RegistryPath> keys = new ArrayList<>(held.keys().keySet());
        java.util.Collections.reverse(keys);
        keys.forEach(rel -> groups.add(List.of(new BatchCommand.DeleteKey(root.resolve(rel)))));

        int maxCommands = Math.min(MAX_COMMANDS_PER_BATCH, limits.maxBatchCommands());
        // half the batch limit: a delete ships more than its encoded size on some backends; a batch still too large is halved
        return pack(groups, maxCommands, limits.maxBatchBytes() / 2);
    }

    /**
     * The batches that write the snapshot under {@code root} (emptied by {@link #deletions} first):
     * the configuration first, each type's descriptor before its entities; an entity's envelope and its
     * version record always share a batch (so they share a revision, as the provider requires); batches
     * stay within the backend's limits.
     */
    static List<List<List<BatchCommand>>> plan(RegistrySnapshot snapshot, RegistryPath root, RegistryLimits limits) {
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
            List<String> names = new ArrayList<>(values.keySet());
            if (typeKey && names.remove(StorageLayout.METADATA)) {
                // the descriptor before every entity, though '_' sorts after digits and capitals: a restore stopped part-way
                // must not leave encrypted entities without it (whoever opened the type next would write a new one, unmarked)
                names.add(0, StorageLayout.METADATA);
            }
            for (String name : names) {
                List<BatchCommand> group = new ArrayList<>(2);
                group.add(new BatchCommand.SetValue(key, name, values.get(name)));
                if (versions != null && versions.containsKey(name)) {
                    group.add(new BatchCommand.SetValue(key.child(StorageLayout.VERSIONS), name, versions.get(name)));
                }
                groups.add(group);
            }
        }
        int maxCommands = Math.min(MAX_COMMANDS_PER_BATCH, limits.maxBatchCommands());
        // a batch the backend still finds too large is halved by commit()
        return pack(groups, maxCommands, limits.maxBatchBytes() * 3 / 4);
    }

    /** Consecutive groups, as many a batch as fit {@code maxCommands} and {@code maxBytes} (a larger group alone). */
    private static List<List<List<BatchCommand>>> pack(List<List<BatchCommand>> groups, int maxCommands, long maxBytes) {
        List<List<List<BatchCommand>>> batches = new ArrayList<>();
        List<List<BatchCommand>> current = new ArrayList<>();
        int commands = 0;
        long bytes = 0;
        for (List<BatchCommand> g : groups) {
            long gBytes = size(g);
            if (!current.isEmpty() && (commands + g.size() > maxCommands || bytes + gBytes > maxBytes)) {
                batches.add(current);
                current = new ArrayList<>();
                commands = 0;
                bytes = 0;
            }
            current.add(g);
            commands += g.size();
            bytes += gBytes;
        }
        if (!current.isEmpty()) {
            batches.add(current);
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
