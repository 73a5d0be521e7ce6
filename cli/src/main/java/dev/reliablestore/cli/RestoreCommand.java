package dev.reliablestore.cli;

import dev.reliablestore.cluster.ClusterStoreAdmin;
import dev.reliablestore.cluster.RestoreMarker;
import dev.reliablestore.cluster.StorageLayout;
import dev.reliablestore.cluster.backup.BackupFile;
import dev.reliablestore.cluster.backup.BackupFormatException;
import dev.reliablestore.cluster.backup.RegistrySnapshot;
import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.ClusterStatus;
import dev.reliablestore.registry.NodeState;
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
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** {@code restore}: writes a backup into a cluster-registry store, after checking the file. */
@Command(name = "restore", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Restore a backup into a store. The file's checksum and structure are checked before the store is "
                + "even opened. The target must hold no more than an empty store's layout (layout version, key salt, type "
                + "descriptors) unless --force, which replaces everything under the root (entities, and anything else below "
                + "it, a store nested in it included): what it holds is deleted first, in batches, and the output says how "
                + "much. Values go back under the same root they were taken from (encrypted and checksummed values are bound "
                + "to it). Large backups are written in several batches; the restored contents are read back and compared "
                + "with the backup at the end. Until then the root is marked as an unfinished restore "
                + "(Configuration/RestoreInProgress): applications refuse to open it, and status, verify and health report "
                + "it, so a restore interrupted by anything (Ctrl-C, kill -9, a power loss) never passes for a complete one; "
                + "rerun it with --force. Stop applications using the store first: on ZooKeeper a restore is refused while "
                + "other registries are connected (--ignore-live-members overrides). Values are written as they were stored: "
                + "key options and --no-compression do not apply.",
                "Example: reliablestore restore --store embedded:./restored --in store.rsbackup"},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:restored and verified",
                "1:failed (corrupt or unreadable backup, target not empty, applications connected, store unreachable, stopped "
                + "part-way: the message says what the target is left as)", "2:bad usage (e.g. a file: store, a key option)",
                "3:restored, but the store's contents differ from the backup (someone wrote meanwhile); it stays marked as an "
                + "unfinished restore", "130/143:interrupted by Ctrl-C / SIGTERM: stopped before its next batch, the target "
                + "marked as an unfinished restore (rerun with --force)"})
final class RestoreCommand implements Callable<Integer> {

    /** Commands per batch at most, whatever the backend allows (keeps each commit a few MiB). */
    static final int MAX_COMMANDS_PER_BATCH = 4000;

    /** Things found below a target's root that a refusal lists, at most. */
    private static final int LISTED = 6;

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--in", required = true, paramLabel = "FILE", description = "The backup file to restore.")
    Path in;

    @Option(names = "--force", description = "Replace whatever the store holds under the root: its entities, and anything "
            + "else below the root (a store nested in it, tombstones, prepared transactions), or what an interrupted restore left.")
    boolean force;

    @Option(names = "--ignore-live-members", description = "Restore into a ZooKeeper store even though other registries are "
            + "connected to it (applications, other tools). They keep the key salt they read when they opened: what they "
            + "write after the restore cannot be decrypted by a process that opens the store later.")
    boolean ignoreLiveMembers;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    /** Set when the process is asked to stop (SIGTERM, Ctrl-C): the restore stops before its next batch. */
    volatile boolean stopRequested;

    /** Called with the number of batches applied, after each batch and with 0 once the mark is written (a test's seam). */
    java.util.function.IntConsumer afterBatch = done -> { };

    /**
     * How long a signal's shutdown hook waits for the restore to finish its batch in flight and say what it left; past
     * that, the hook says what the target may be left as and lets the JVM exit (a test's seam).
     */
    Duration stopWait = Duration.ofSeconds(30);

    /**
     * Released once the restore has said how it ended, on its streams, errors included (a signal's shutdown hook waits
     * for it: the JVM exits when the hook returns); a test's seam.
     */
    volatile CountDownLatch reported;

    /** What the restore is doing, for a signal's shutdown hook that cannot wait for it any longer. */
    private enum Stage { READING, MARKING, DELETING, WRITING, VERIFYING, DONE }

    /** The target's registry while the restore has it open (a test's seam). */
    volatile ClusterRegistry targetRegistry;

    private volatile Stage stage = Stage.READING;
    private volatile Applied progress;
    private volatile String where;

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
        Optional<RestoreMarker> backupOfAPartialStore = RestoreMarker.inSnapshot(backup.snapshot().keys());
        if (backupOfAPartialStore.isPresent()) {
            throw CliException.failed("backup " + in + " was taken of a store whose restore had not finished (Configuration/"
                    + StorageLayout.RESTORE_IN_PROGRESS_VALUE + ": " + backupOfAPartialStore.get().describe() + "): it holds part of"
                    + " another backup; restore a complete one");
        }
        CountDownLatch finished = new CountDownLatch(1);
        reported = finished;
        stage = Stage.READING;
        where = target.location().describe();
        int[] result = {ExitCodes.INTERRUPTED};
        PrintWriter err = spec.commandLine().getErr();
        Thread onSignal = new Thread(() -> {
            stopRequested = true;
            try {
                // let the batch in flight finish and the restore say what it left
                if (!finished.await(stopWait.toMillis(), TimeUnit.MILLISECONDS)) {
                    err.println("restore did not stop within " + stopWait.toSeconds() + " s of the signal, and exits " + cutShort());
                    err.flush();
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (result[0] != ExitCodes.INTERRUPTED) {
                // the signal came when no batch was left to stop before (or the restore failed): it finished, verified or
                // not, and exits as it says, not as signalled
                System.out.flush();
                System.err.flush();
                Runtime.getRuntime().halt(result[0]);
            }
        }, "reliablestore-restore-stop");
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            result[0] = restore(target, backup, root);
        } catch (RuntimeException e) {
            // said here, not by picocli's handler once this returned: by then a signal's hook may have let the JVM exit
            result[0] = ReliableStoreCli.report(e, spec.commandLine());
        } finally {
            stage = Stage.DONE;
            targetRegistry = null;
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException shuttingDown) {
                // signalled: the JVM exits once the hook returns
            }
        }
        return result[0];
    }

    /** What the target may be left as, where the restore is now, for a signal's hook that does not wait for it any longer. */
    private String cutShort() {
        Applied applied = progress;
        return switch (stage) {
            case READING -> "before it changed anything: " + where + " is as it was";
            case MARKING -> "while writing its mark as an unfinished restore (Configuration/" + StorageLayout.RESTORE_IN_PROGRESS_VALUE
                    + "): " + where + " is otherwise as it was, but may be marked (status shows it; if it is, applications refuse to"
                    + " open it until a restore completes: run restore --force again)";
            case DELETING, WRITING -> "after " + applied.done + " of " + applied.total + " batches, with the next one in flight (it may"
                    + " have gone in or not): the target " + where + (stage == Stage.WRITING ? PARTLY_RESTORED
                    : applied.done == 0 ? PARTLY_DELETED.replaceFirst("^ is ", " may be ") : PARTLY_DELETED) + MARKED
                    + "; run restore --force again";
            case VERIFYING -> "with every batch written, while reading the store back to verify it: the target " + where
                    + " is restored but not verified" + MARKED + "; run restore --force again";
            case DONE -> "after it finished (its output says whether " + where + " is restored and verified)";
        };
    }

    private Integer restore(StoreSpec target, BackupFile.Contents backup, RegistryPath root) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (StoreSession session = StoreSession.open(target, StoreSession.Access.CREATE)) {
            ClusterRegistry registry = session.registry("restore");
            where = session.describe();
            targetRegistry = registry;
            if (!session.layout().root().equals(root)) {
                throw CliException.usage("backup " + in + " holds root " + root + " but the target is configured for "
                        + session.layout().root() + "; values are bound to the root they were written under, so restore to "
                        + "the same --resource-group and --key-path (the default is the backup's)");
            }
            // what is deleted is what was checked: everything below the root, as of one sequence
            RegistrySnapshot held = RegistrySnapshot.take(registry, root);
            List<String> notEmpty = notAnEmptyStore(held, root);
            if (!notEmpty.isEmpty() && !force) {
                throw CliException.failed("the target " + session.describe() + " already holds " + listed(notEmpty)
                        + "; restore replaces everything under the root, so it deletes none of that without --force (which deletes"
                        + " it all, a store nested in the root included); nothing was changed");
            }
            List<String> live = otherLiveMembers(registry);
            if (!live.isEmpty() && !ignoreLiveMembers) {
                throw CliException.failed("other registries are connected to " + registry.uri() + ": " + live + LIVE_MEMBERS
                        + "; nothing was changed");
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
            List<List<List<BatchCommand>>> deletes = deletions(held, root, limits);
            Applied applied = new Applied(deletes.size() + batches.size());
            progress = applied;
            stage = Stage.MARKING; // before the stop is looked at: a signal's hook that sees READING knows the mark is not written
            if (stopRequested) {
                err.println("restore interrupted before it changed anything: " + session.describe() + " is as it was");
                err.flush();
                return ExitCodes.INTERRUPTED;
            }
            RegistryPath configuration = root.child(StorageLayout.CONFIGURATION);
            // the mark an earlier restore left: put back if this one fails before changing anything else
            RegistryValue earlierMark = held.keys().getOrDefault(RegistryPath.of(StorageLayout.CONFIGURATION), new TreeMap<>())
                    .get(StorageLayout.RESTORE_IN_PROGRESS_VALUE);
            // before anything else is changed: from here on, whatever stops the restore leaves the root marked
            RestoreMarker marker = RestoreMarker.beginning(in.toAbsolutePath().toString(), backup.source(), backup.snapshot().sequence());
            RegistryValue ours = marker.toValue();
            // the mark changes only while it is this restore's: another restore (--force) may have marked the root since, and
            // removing its mark would let applications open a root that restore is still writing
            BatchCommand stillOurs = new BatchCommand.ValueEquals(configuration, StorageLayout.RESTORE_IN_PROGRESS_VALUE, ours);
            Runnable unmark = () -> registry.commit(WriteBatch.of(List.of(stillOurs, earlierMark == null
                    ? new BatchCommand.DeleteValue(configuration, StorageLayout.RESTORE_IN_PROGRESS_VALUE)
                    : new BatchCommand.SetValue(configuration, StorageLayout.RESTORE_IN_PROGRESS_VALUE, earlierMark))));
            try {
                registry.commit(WriteBatch.of(List.of(new BatchCommand.SetValue(configuration, StorageLayout.RESTORE_IN_PROGRESS_VALUE,
                        ours))));
            } catch (RuntimeException e) {
                if (!mayHaveApplied(e)) {
                    throw e; // nothing was changed
                }
                throw CliException.failed("restore stopped before deleting or writing anything, but its mark may have been written ("
                        + e.getMessage() + "): until a restore completes, applications refuse to open " + session.describe()
                        + "; run restore --force again", e);
            }
            stage = Stage.DELETING;
            afterBatch.accept(0); // a test's seam: marked, no batch applied yet
            if (!ignoreLiveMembers) {
                // again, now that the mark is written: an application that opened the store since the check above read no
                // mark (one that opens it from now on is refused), and it is listed if it did
                List<String> joined;
                try {
                    joined = otherLiveMembers(registry);
                } catch (RuntimeException e) {
                    throw unmarked(e, session, unmark);
                }
                if (!joined.isEmpty()) {
                    String why = "other registries connected to " + registry.uri() + " while the restore was starting: " + joined
                            + LIVE_MEMBERS;
                    try {
                        unmark.run();
                    } catch (RuntimeException unmarking) {
                        throw CliException.failed(why + "; the restore stopped before deleting or writing anything, but its mark as an"
                                + " unfinished restore could not be removed (" + unmarking.getMessage() + "): applications refuse to open "
                                + session.describe() + " until a restore completes; run restore --force again", unmarking);
                    }
                    throw CliException.failed(why + "; the restore took its mark away again: nothing was changed");
                }
            }
            try {
                if (!commit(registry, deletes, applied, b -> afterBatch.accept(applied.done), () -> stopRequested)) {
                    return interrupted(err, applied, session, true, unmark);
                }
            } catch (RuntimeException e) {
                throw stopped(applied, e, session, true, unmark);
            }
            stage = Stage.WRITING;
            Progress progress = new Progress(err, Progress.onTerminal(), "restore", backup.snapshot().valueCount(), Duration.ofSeconds(1));
            try {
                boolean completed = commit(registry, batches, applied, b -> {
                    progress.advance(b.commands().stream().filter(c -> c instanceof BatchCommand.SetValue).count());
                    afterBatch.accept(applied.done);
                }, () -> stopRequested);
                if (!completed) {
                    progress.finish();
                    return interrupted(err, applied, session, false, unmark);
                }
            } catch (RuntimeException e) {
                throw stopped(applied, e, session, false, unmark);
            }
            progress.finish();
            stage = Stage.VERIFYING; // a stop asked for now changes nothing: there is no batch left to stop before
            boolean backupHasConfiguration = backup.snapshot().keys().containsKey(RegistryPath.of(StorageLayout.CONFIGURATION));
            RegistrySnapshot now = withoutMark(RegistrySnapshot.take(registry, root), backupHasConfiguration);
            String expected = backup.metadata().path("contentSha256").asText();
            boolean verified = now.contentDigest().equals(expected) && now.contentDigest().equals(backup.snapshot().contentDigest());
            if (verified) {
                // last: only a restore whose contents verified removes the mark (a key the backup does not have goes with it)
                List<BatchCommand> finish = backupHasConfiguration
                        ? List.of(stillOurs, new BatchCommand.DeleteValue(configuration, StorageLayout.RESTORE_IN_PROGRESS_VALUE))
                        : List.of(stillOurs, new BatchCommand.DeleteKey(configuration));
                try {
                    registry.commit(WriteBatch.of(finish));
                } catch (ConditionFailedException another) {
                    String mark = ClusterStoreAdmin.of(registry, root).unfinishedRestore().map(RestoreMarker::describe).orElse("none");
                    throw CliException.check("restored and verified " + session.describe() + ", but another restore marked it since ("
                            + mark + "): its mark stays, and applications refuse to open the store until a restore completes");
                } catch (RuntimeException e) {
                    throw CliException.failed("restored and verified " + session.describe() + ", but its mark as an unfinished restore"
                            + " could not be removed (" + e.getMessage() + "): applications refuse to open it until a restore"
                            + " completes; run restore --force again", e);
                }
            }
            Map<String, Long> entities = now.entityCounts();
            long total = entities.values().stream().mapToLong(Long::longValue).sum();
            long deletedValues = held.valueCount() - (RestoreMarker.inSnapshot(held.keys()).isPresent() ? 1 : 0);
            long deletedKeys = held.keys().keySet().stream().filter(k -> !k.isRoot() && !isConfiguration(k)).count();
            if (json) {
                out.println(Json.write(Json.object("restored", true, "verified", verified, "target", registry.uri(),
                        "root", root.toString(), "backupSequence", backup.snapshot().sequence(), "source", backup.source(),
                        "deleted", Json.object("values", deletedValues, "keys", deletedKeys, "held", notEmpty),
                        "batches", applied.done, "keys", now.keys().size(), "values", now.valueCount(), "entities", entities,
                        "unfinishedRestoreMark", !verified)));
            } else {
                List<String> data = notEmpty.stream().filter(f -> !f.startsWith(UNFINISHED)).toList();
                out.println((deletedValues == 0 && deletedKeys == 0 ? "the target held nothing under " + root
                        : "deleted " + deletedValues + " values in " + deletedKeys + " keys that the target held under " + root
                        + (data.isEmpty() ? " (an empty store's layout)" : ": " + listed(data)))
                        + RestoreMarker.inSnapshot(held.keys()).map(m -> "; replaced " + UNFINISHED + " (" + m.describe() + ")").orElse(""));
                out.println("restored " + in + " (" + backup.source() + " as of sequence " + backup.snapshot().sequence() + ") into "
                        + session.describe() + " in " + applied.done + " batch(es): " + total + " entities in " + entities.size()
                        + " type(s) " + entities);
                out.println(verified ? "verified: the store's contents equal the backup (sha256 " + expected + ")"
                        : "NOT VERIFIED: the store's contents differ from the backup; something wrote to it during the restore. It stays"
                        + " marked as an unfinished restore (applications refuse to open it): stop what writes to it and run restore"
                        + " --force again");
            }
            out.flush();
            return verified ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
        }
    }

    private static boolean isConfiguration(RegistryPath rel) {
        return rel.depth() == 1 && rel.segments().get(0).equals(StorageLayout.CONFIGURATION);
    }

    /** The restore stopped by a signal before its next batch: says what it left, on standard error. */
    private int interrupted(PrintWriter err, Applied applied, StoreSession session, boolean deleting, Runnable unmark) {
        if (applied.done == 0) {
            // the stop came before the first batch (during the mark's own write, say): only the mark changed
            try {
                unmark.run();
                err.println("restore interrupted before it changed anything: " + session.describe() + " is as it was");
                err.flush();
                return ExitCodes.INTERRUPTED;
            } catch (RuntimeException unmarking) {
                err.println("restore interrupted before deleting or writing anything, but its mark as an unfinished restore could not"
                        + " be removed (" + unmarking.getMessage() + "): applications refuse to open " + session.describe()
                        + " until a restore completes; run restore --force again");
                err.flush();
                return ExitCodes.INTERRUPTED;
            }
        }
        err.println("restore stopped after " + applied.done + " of " + applied.total + " batches (interrupted): the target "
                + session.describe() + (deleting ? PARTLY_DELETED : PARTLY_RESTORED) + MARKED + "; run restore --force again");
        err.flush();
        return ExitCodes.INTERRUPTED;
    }

    private static final String PARTLY_DELETED = " is partly deleted (part of what it held is gone, nothing of the backup is written yet)";
    private static final String PARTLY_RESTORED = " is partly restored (what it held before is gone)";
    private static final String MARKED = " and marked as an unfinished restore (Configuration/" + StorageLayout.RESTORE_IN_PROGRESS_VALUE
            + "): applications refuse to open it, and status, verify and health report it, until a restore completes";

    /**
     * {@code snapshot} of a restored root without the restore's mark, as the backup would show it: and without the
     * Configuration key the mark needed, when the backup has none and it holds nothing else.
     */
    static RegistrySnapshot withoutMark(RegistrySnapshot snapshot, boolean backupHasConfiguration) {
        RegistryPath cfg = RegistryPath.of(StorageLayout.CONFIGURATION);
        SortedMap<String, RegistryValue> values = snapshot.keys().get(cfg);
        if (values == null || !values.containsKey(StorageLayout.RESTORE_IN_PROGRESS_VALUE)) {
            return snapshot;
        }
        SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys = new TreeMap<>(snapshot.keys());
        SortedMap<String, RegistryValue> rest = new TreeMap<>(values);
        rest.remove(StorageLayout.RESTORE_IN_PROGRESS_VALUE);
        boolean subkeys = keys.keySet().stream().anyMatch(k -> k.isBelow(cfg) && !k.equals(cfg));
        if (rest.isEmpty() && !subkeys && !backupHasConfiguration) {
            keys.remove(cfg);
        } else {
            keys.put(cfg, rest);
        }
        return new RegistrySnapshot(snapshot.root(), snapshot.sequence(), keys);
    }

    /**
     * The other registries connected to the target, where the backend lists them (ZooKeeper: every open registry is a
     * member, this tool's own connection too); empty where the nodes are not the processes that have the store open:
     * the embedded registry lists one node, this tool (its directory lock keeps every other process out), and a Windows
     * cluster lists its machines whether or not an application runs on them, so there the check cannot tell.
     */
    static List<String> otherLiveMembers(ClusterRegistry registry) {
        if (registry.listsEveryNode()) {
            return List.of();
        }
        ClusterStatus status = registry.status();
        return status.nodes().stream()
                .filter(n -> (n.state() == NodeState.UP || n.state() == NodeState.PAUSED) && !n.name().equals(status.localNode()))
                .map(n -> n.state() == NodeState.UP ? n.name() : n.name() + " (" + n.state() + ")").toList();
    }

    /**
     * What {@code held}, a snapshot of the target's root, holds beyond what opening an empty store writes, for people,
     * by where it is; empty when a restore may replace it without --force. Not counted: keys without values, the layout
     * version and its description, the key salt, type descriptors (a store opened for a type writes one) and a type's
     * compression dictionaries (they serve only values stored with them, and none is then left). Counted: entities,
     * tombstones, anything else below the root (a store nested in it, prepared transactions, a multi-site store's
     * bookkeeping), the mark of a restore that did not finish.
     */
    static List<String> notAnEmptyStore(RegistrySnapshot held, RegistryPath root) {
        Map<String, java.util.Set<String>> entities = new TreeMap<>();
        Map<String, Long> tombstones = new TreeMap<>();
        Map<RegistryPath, Long> elsewhere = new java.util.LinkedHashMap<>();
        java.util.Set<RegistryPath> nestedStores = new java.util.HashSet<>();
        Optional<RestoreMarker> unfinished = RestoreMarker.inSnapshot(held.keys());
        for (Map.Entry<RegistryPath, SortedMap<String, RegistryValue>> e : held.keys().entrySet()) {
            RegistryPath rel = e.getKey();
            SortedMap<String, RegistryValue> values = e.getValue();
            List<String> s = rel.segments();
            if (values.isEmpty()) {
                continue;
            }
            if (s.isEmpty()) {
                elsewhere.merge(rel, (long) values.size(), Long::sum);
            } else if (s.get(0).equals(StorageLayout.CONFIGURATION)) {
                if (s.size() == 1) {
                    long other = values.keySet().stream().filter(n -> !EMPTY_STORE_CONFIGURATION.contains(n)).count();
                    if (other > 0) {
                        elsewhere.merge(rel, other, Long::sum);
                    }
                } else if (!s.get(1).equals(StorageLayout.DICTIONARIES)) {
                    elsewhere.merge(RegistryPath.of(s.subList(0, 2)), (long) values.size(), Long::sum);
                }
            } else if (s.get(0).equals(StorageLayout.ENTITIES) && s.size() == 2) {
                values.keySet().stream().filter(n -> !n.equals(StorageLayout.METADATA))
                        .forEach(id -> entities.computeIfAbsent(s.get(1), t -> new java.util.HashSet<>()).add(id));
            } else if (s.get(0).equals(StorageLayout.ENTITIES) && s.size() == 3 && s.get(2).equals(StorageLayout.VERSIONS)) {
                entities.computeIfAbsent(s.get(1), t -> new java.util.HashSet<>()).addAll(values.keySet());
            } else if (s.get(0).equals(StorageLayout.ENTITIES) && s.size() >= 3 && s.get(2).equals(StorageLayout.TOMBSTONES)) {
                tombstones.merge(s.get(1), (long) values.size(), Long::sum);
            } else if (s.get(0).equals(StorageLayout.ENTITIES)) {
                elsewhere.merge(RegistryPath.of(s.subList(0, Math.min(3, s.size()))), (long) values.size(), Long::sum);
            } else {
                RegistryPath area = RegistryPath.of(s.get(0));
                elsewhere.merge(area, (long) values.size(), Long::sum);
                if (s.get(s.size() - 1).equals(StorageLayout.CONFIGURATION) && values.containsKey(StorageLayout.VERSION_VALUE)) {
                    nestedStores.add(area);
                }
            }
        }
        List<String> found = new ArrayList<>();
        unfinished.ifPresent(m -> found.add(UNFINISHED + " (" + m.describe() + ")"));
        if (!entities.isEmpty()) {
            Map<String, Long> counts = new TreeMap<>();
            entities.forEach((t, ids) -> counts.put(t, (long) ids.size()));
            found.add(counts.values().stream().mapToLong(Long::longValue).sum() + " entities " + counts);
        }
        if (!tombstones.isEmpty()) {
            found.add(tombstones.values().stream().mapToLong(Long::longValue).sum() + " tombstones of deleted entities " + tombstones);
        }
        elsewhere.forEach((area, n) -> found.add(n + " values " + (area.isRoot() ? "in the root key " + root : "below " + root.resolve(area))
                + (nestedStores.contains(area) ? " (another store: its root lies below this one)" : hint(area))));
        return found;
    }

    private static final String UNFINISHED = "what a restore that did not finish left";

    /** Configuration values an empty store has (the restore's mark is reported on its own). */
    private static final java.util.Set<String> EMPTY_STORE_CONFIGURATION = java.util.Set.of(StorageLayout.VERSION_VALUE,
            StorageLayout.SCHEMA_VALUE, StorageLayout.KEY_SALT_VALUE, StorageLayout.KEY_CHECK_VALUE, StorageLayout.RESTORE_IN_PROGRESS_VALUE);

    /** What the values of an area outside the entities usually are. */
    private static String hint(RegistryPath area) {
        // the provider's names (RegistryTransactions, SiteReplication)
        if (area.depth() == 1 && area.segments().get(0).equals("Transactions")) {
            return " (prepared transaction records and their locks)";
        }
        if (area.depth() == 1 && area.segments().get(0).equals("Sites")) {
            return " (a multi-site store's bookkeeping: checkpoints, conflict records, merges owed)";
        }
        if (area.depth() == 1 && !area.segments().get(0).equals(StorageLayout.ENTITIES)
                && !area.segments().get(0).equals(StorageLayout.CONFIGURATION)) {
            return " (not of this store's layout: another store nested in the root?)";
        }
        return "";
    }

    /** The first things found, and how many more. */
    private static String listed(List<String> found) {
        String first = String.join("; ", found.subList(0, Math.min(LISTED, found.size())));
        return found.size() > LISTED ? first + "; and " + (found.size() - LISTED) + " more" : first;
    }

    /**
     * Commits {@code batches} (of {@link #deletions} or {@link #plan}) in order, counting each in
     * {@code applied} and passing it to {@code committed}; a batch the backend refuses as too large
     * (nothing of it was sent) goes as two halves instead, never splitting a group.
     */
    static void commit(ClusterRegistry registry, List<List<List<BatchCommand>>> batches, Applied applied, Consumer<WriteBatch> committed) {
        commit(registry, batches, applied, committed, () -> false);
    }

    /**
     * As {@link #commit(ClusterRegistry, List, Applied, Consumer)}, asking {@code stop} before each batch.
     *
     * @return false when {@code stop} said to stop before every batch was committed
     */
    static boolean commit(ClusterRegistry registry, List<List<List<BatchCommand>>> batches, Applied applied,
                          Consumer<WriteBatch> committed, BooleanSupplier stop) {
        Deque<List<List<BatchCommand>>> pending = new ArrayDeque<>(batches);
        while (!pending.isEmpty()) {
            if (stop.getAsBoolean()) {
                return false;
            }
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
        return true;
    }

    /** Batches committed so far, of how many. */
    static final class Applied {
        volatile int done; // read by a signal's shutdown hook too
        volatile int total;

        Applied(int total) {
            this.total = total;
        }
    }

    /**
     * The error for a commit that failed: unchanged when nothing but the restore's mark was changed yet ({@code unmark}
     * takes it away again, or puts back the one an earlier restore left), else what the target is left as.
     */
    private RuntimeException stopped(Applied applied, RuntimeException e, StoreSession session, boolean deleting, Runnable unmark) {
        if (applied.done == 0 && !mayHaveApplied(e)) {
            return unmarked(e, session, unmark); // the first batch did not apply: nothing was changed
        }
        return CliException.failed("restore stopped after " + applied.done + " of " + applied.total + " batches: the target "
                + session.describe() + (deleting ? PARTLY_DELETED : PARTLY_RESTORED) + " (" + e.getMessage() + ")" + MARKED
                + "; run restore --force again", e);
    }

    /**
     * {@code e}, for a restore that stopped before deleting or writing anything, once {@code unmark} took its mark away
     * again (or put back the one an earlier restore left); an error saying the mark stays if that failed.
     */
    private static RuntimeException unmarked(RuntimeException e, StoreSession session, Runnable unmark) {
        try {
            unmark.run();
            return e;
        } catch (RuntimeException unmarking) {
            e.addSuppressed(unmarking);
            return CliException.failed("restore stopped before deleting or writing anything (" + e.getMessage() + "), but its"
                    + " mark as an unfinished restore could not be removed (" + unmarking.getMessage() + "): applications refuse"
                    + " to open " + session.describe() + " until a restore completes; run restore --force again", e);
        }
    }

    /** Why other registries connected to the target stop a restore, after their names. */
    private static final String LIVE_MEMBERS = " (applications, or other tools); a restore rewrites the store's key salt (Configuration/"
            + StorageLayout.KEY_SALT_VALUE + "), and a running application goes on deriving its passphrase keys from the salt it read"
            + " when it opened, so what it writes after the restore is encrypted under keys no process opened later can derive; stop"
            + " them first (a process that crashed stays listed until its ZooKeeper session expires), or pass --ignore-live-members"
            + " if you know they write nothing";

    /**
     * The batches that delete everything {@code held} under {@code root}, each a list of groups that
     * a batch never splits: an entity's envelope and version record go together, so a restore
     * interrupted while deleting leaves whole entities; the types' descriptors, then the configuration
     * (layout, key salt, dictionaries) go after every entity, so those left still read; keys go last, each after
     * everything below it, the root last of all. Small enough for every backend's request, unlike
     * one delete of the root, which a backend may expand into one delete per stored node. The restore's
     * mark (Configuration/RestoreInProgress) stays, and so do the keys it is under: the root and its
     * Configuration key (what else they hold is deleted).
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
            held.keys().get(rel).keySet().stream().filter(name -> !(isConfiguration(rel) && name.equals(StorageLayout.RESTORE_IN_PROGRESS_VALUE)))
                    .forEach(name -> groups.add(List.of(new BatchCommand.DeleteValue(key, name))));
        }
        // sorted, a key comes before every key below it; the mark's keys stay
        List<RegistryPath> keys = new ArrayList<>(held.keys().keySet());
        java.util.Collections.reverse(keys);
        keys.stream().filter(rel -> !rel.isRoot() && !isConfiguration(rel))
                .forEach(rel -> groups.add(List.of(new BatchCommand.DeleteKey(root.resolve(rel)))));

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
