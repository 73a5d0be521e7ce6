package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.Versioned;
import dev.reliablestore.registry.ClusterRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/** {@code migrate}: copies entities between any two stores in batches, resumably, and verifies the result. */
@Command(name = "migrate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Copy the entities of one store into another (e.g. from a file: store into a cluster store), in atomic "
                + "batches, with a progress line (done/total, rate, ETA). Resumable: an id the target already holds with "
                + "equal content is skipped, so after an interruption (Ctrl-C, a crash, kill -9) the same command carries on "
                + "where it stopped, and nothing is ever duplicated. A target entity with different content is overwritten "
                + "with the source's. Versions start again at 1 in the target. At the end every migrated type is verified: "
                + "the target's entity count and SHA-256 content hash (over ids and canonical JSON) must equal the source's, "
                + "both read again after the copy.",
                "Example: reliablestore migrate --from file:./old-data --to embedded:./data --type Customer"},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:copied and verified", "1:failed (rerun to resume)",
                "2:bad usage", "3:copied, but the target does not verify (e.g. it holds other entities of the type, or "
                + "something wrote to either store meanwhile)", "130:interrupted by Ctrl-C (rerun to resume)"})
final class MigrateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--from", required = true, paramLabel = "STORE", description = "The source store (any scheme).")
    String from;

    @Option(names = "--to", required = true, paramLabel = "STORE", description = "The target store (any scheme).")
    String to;

    @Option(names = "--type", paramLabel = "TYPE", description = "Migrate this type (repeatable). Default: every type of the source.")
    List<String> types = new ArrayList<>();

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "100",
            description = "Entities per atomic batch, 1..1000 (a batch too large for the target is split). Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--max-rate", paramLabel = "N", description = "Copy at most N entities per second (spare a busy cluster).")
    Integer maxRate;

    @Option(names = "--progress-interval", paramLabel = "DURATION", defaultValue = "1s", converter = DurationConverter.class,
            description = "When not on a terminal, print a progress line this often. Default: ${DEFAULT-VALUE}.")
    Duration progressInterval;

    @Option(names = "--from-resource-group", paramLabel = "NAME", description = "Source cluster store: resource group.")
    String fromResourceGroup;

    @Option(names = "--from-key-path", paramLabel = "PATH", description = "Source cluster store: key path.")
    String fromKeyPath;

    @Option(names = "--from-passphrase-env", paramLabel = "VAR", description = "Source encrypted store: passphrase from VAR.")
    String fromPassphraseEnv;

    @Option(names = "--from-passphrase-file", paramLabel = "FILE", description = "Source encrypted store: passphrase from FILE.")
    Path fromPassphraseFile;

    @Option(names = "--from-key-store", paramLabel = "FILE", description = "Source encrypted store: key store.")
    Path fromKeyStore;

    @Option(names = "--from-key-store-password-env", paramLabel = "VAR", description = "Source key store password, from VAR.")
    String fromKeyStorePasswordEnv;

    @Option(names = "--from-previous-passphrase-env", paramLabel = "VAR",
            description = "Source encrypted store: an older passphrase still needed to read some values, from VAR (repeatable).")
    List<String> fromPreviousPassphraseEnv = new ArrayList<>();

    @Option(names = "--from-previous-passphrase-file", paramLabel = "FILE",
            description = "Source encrypted store: an older passphrase, from FILE (repeatable).")
    List<Path> fromPreviousPassphraseFile = new ArrayList<>();

    @Option(names = "--from-key-store-type", paramLabel = "TYPE",
            description = "Source key store type: BCFKS or PKCS12. Default: BCFKS.")
    String fromKeyStoreType;

    @Option(names = "--from-key-alias", paramLabel = "ALIAS", description = "Source key store: the alias of the active key (default: the newest AES key).")
    String fromKeyAlias;

    @Option(names = "--from-registry-option", paramLabel = "KEY=VALUE",
            description = "Source registry backend option, e.g. sessionTimeout=10s (repeatable); secrets are refused here.")
    Map<String, String> fromRegistryOptions = new LinkedHashMap<>();

    @Option(names = "--from-registry-secret-env", paramLabel = "KEY=VAR",
            description = "Source registry secret option from environment variable VAR, e.g. digest=ZK_DIGEST (repeatable).")
    Map<String, String> fromRegistrySecretEnv = new LinkedHashMap<>();

    @Option(names = "--from-registry-secret-file", paramLabel = "KEY=FILE",
            description = "Source registry secret option from FILE's content (repeatable).")
    Map<String, Path> fromRegistrySecretFile = new LinkedHashMap<>();

    @Option(names = "--to-resource-group", paramLabel = "NAME", description = "Target cluster store: resource group.")
    String toResourceGroup;

    @Option(names = "--to-key-path", paramLabel = "PATH", description = "Target cluster store: key path.")
    String toKeyPath;

    @Option(names = "--to-passphrase-env", paramLabel = "VAR", description = "Target encrypted store: passphrase from VAR.")
    String toPassphraseEnv;

    @Option(names = "--to-passphrase-file", paramLabel = "FILE", description = "Target encrypted store: passphrase from FILE.")
    Path toPassphraseFile;

    @Option(names = "--to-key-store", paramLabel = "FILE", description = "Target encrypted store: key store.")
    Path toKeyStore;

    @Option(names = "--to-key-store-password-env", paramLabel = "VAR", description = "Target key store password, from VAR.")
    String toKeyStorePasswordEnv;

    @Option(names = "--to-previous-passphrase-env", paramLabel = "VAR",
            description = "Target encrypted store: an older passphrase its values may still be under, from VAR (repeatable).")
    List<String> toPreviousPassphraseEnv = new ArrayList<>();

    @Option(names = "--to-previous-passphrase-file", paramLabel = "FILE",
            description = "Target encrypted store: an older passphrase, from FILE (repeatable).")
    List<Path> toPreviousPassphraseFile = new ArrayList<>();

    @Option(names = "--to-key-store-type", paramLabel = "TYPE",
            description = "Target key store type: BCFKS or PKCS12. Default: BCFKS.")
    String toKeyStoreType;

    @Option(names = "--to-key-alias", paramLabel = "ALIAS", description = "Target key store: the alias of the active key (default: the newest AES key).")
    String toKeyAlias;

    @Option(names = "--to-registry-option", paramLabel = "KEY=VALUE",
            description = "Target registry backend option (repeatable); secrets are refused here.")
    Map<String, String> toRegistryOptions = new LinkedHashMap<>();

    @Option(names = "--to-registry-secret-env", paramLabel = "KEY=VAR",
            description = "Target registry secret option from environment variable VAR (repeatable).")
    Map<String, String> toRegistrySecretEnv = new LinkedHashMap<>();

    @Option(names = "--to-registry-secret-file", paramLabel = "KEY=FILE",
            description = "Target registry secret option from FILE's content (repeatable).")
    Map<String, Path> toRegistrySecretFile = new LinkedHashMap<>();

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    private volatile boolean stopRequested;

    /**
     * Runs after each type's copy, given the type and the source's stores by type: where a test writes, as a concurrent
     * writer could, before the verifications (which come after every copy).
     */
    java.util.function.BiConsumer<String, java.util.function.Function<String, EntityStore<JsonNode>>> afterCopying = (type, sources) -> { };

    /** Runs once every type is copied, before the verifications, given a cluster source's registry (null for a file store). */
    java.util.function.Consumer<ClusterRegistry> beforeVerifying = registry -> { };

    /** What SIGTERM's and Ctrl-C's hook does: the copy stops before its next batch. */
    void requestStop() {
        stopRequested = true;
    }

    /** What happened to one type. */
    private record TypeResult(String type, long source, long copied, long updated, long skipped, long target,
                              String sourceHash, String targetHash, List<String> differences) {
        boolean verified() {
            return source == target && sourceHash.equals(targetHash);
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        if (batchSize < 1 || batchSize > 1000) {
            throw CliException.usage("--batch-size must be 1..1000, got " + batchSize);
        }
        if (maxRate != null && maxRate < 1) {
            throw CliException.usage("--max-rate must be 1 or more entities per second, got " + maxRate);
        }
        types.forEach(EntityCommands::checkType);
        StoreSpec source = new StoreSpec(StoreLocation.parse(from), fromResourceGroup, fromKeyPath,
                new KeySpec(fromPassphraseEnv, fromPassphraseFile, fromPreviousPassphraseEnv, fromPreviousPassphraseFile, fromKeyStore,
                        fromKeyStorePasswordEnv, fromKeyStoreType, fromKeyAlias, "from-"), true,
                RegistryOptions.resolve("from-", fromRegistryOptions, fromRegistrySecretEnv, fromRegistrySecretFile));
        StoreSpec target = new StoreSpec(StoreLocation.parse(to), toResourceGroup, toKeyPath,
                new KeySpec(toPassphraseEnv, toPassphraseFile, toPreviousPassphraseEnv, toPreviousPassphraseFile, toKeyStore,
                        toKeyStorePasswordEnv, toKeyStoreType, toKeyAlias, "to-"), true,
                RegistryOptions.resolve("to-", toRegistryOptions, toRegistrySecretEnv, toRegistrySecretFile));
        // before the shutdown hook: a refusal past it would leave the hook waiting for a copy that never ran
        if (!source.location().cluster() && !target.location().cluster() && source.location().dir().equals(target.location().dir())) {
            throw CliException.usage("--from and --to are the same store (" + source.location().describe() + "); a migration copies"
                    + " between two stores");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CountDownLatch finished = new CountDownLatch(1);
        Thread onSignal = new Thread(() -> {
            requestStop();
            try {
                finished.await(30, TimeUnit.SECONDS); // let the batch in flight finish and the summary print
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "reliablestore-migrate-stop");
        Runtime.getRuntime().addShutdownHook(onSignal);
        // the source is only read: opened for checking, it reseals no dictionary (under a key other nodes may lack)
        try (StoreSession src = StoreSession.open(source, StoreSession.Access.EXISTING, true).checkingOnly();
             StoreSession dst = StoreSession.open(target, StoreSession.Access.CREATE, true, src)) {
            if (src.isCluster() && dst.isCluster() && src.registry("migrate") == dst.registry("migrate")
                    && src.layout().root().equals(dst.layout().root())) {
                throw CliException.usage("--from and --to are the same store (" + src.describe() + "); a migration copies between"
                        + " two stores: give the target another --to-resource-group or --to-key-path");
            }
            List<String> available = src.typeNames();
            List<String> chosen = types.isEmpty() ? available : types;
            for (String t : chosen) {
                if (!available.contains(t)) {
                    throw CliException.usage("type " + t + " does not exist in the source " + src.describe() + "; types: " + available);
                }
            }
            if (chosen.isEmpty()) {
                throw CliException.failed("the source " + src.describe() + " holds no entities");
            }
            // before anything is written: the values of a prepared transaction's entities are the ones before it, and a
            // recovery would commit it into the source only
            preparedTransactions(src).ifPresent(found -> {
                throw CliException.failed(found + ", then run the same command again; nothing was copied");
            });
            Map<String, Long> counts = src.counts(chosen); // a file store opens each type it counts: the chosen ones only
            long total = chosen.stream().mapToLong(t -> counts.getOrDefault(t, 0L)).sum();
            if (!json) {
                out.println("migrating " + total + " entities of " + chosen.size() + " type(s) from " + src.describe() + " to "
                        + dst.describe() + " (" + dst.pipeline() + ")");
                out.flush();
            }
            // every store opened before the first copy: a type refused (another codec) fails the command while nothing is copied;
            // and refused before any opens where the descriptors tell, since opening a store may reseal its dictionaries
            src.requireReadable(chosen); // opened for checking, the source would open an encrypted type without keys
            dst.requireWritable(chosen);
            if (!dst.isCluster()) {
                for (String type : chosen) {
                    dst.store(type); // a file store's refusal comes at its opening, which writes nothing
                }
            }
            for (String type : chosen) {
                src.store(type);
            }
            for (String type : chosen) {
                dst.store(type);
            }
            Progress progress = new Progress(err, Progress.onTerminal(), "migrate", total, progressInterval);
            long started = System.nanoTime();
            Map<String, Copied> copies = new LinkedHashMap<>();
            for (String type : chosen) {
                Copied r;
                try {
                    r = copy(src.store(type), dst.store(type), progress, started);
                } catch (RuntimeException stopped) {
                    // e.g. an entity the target refuses: "bad usage, nothing changed" would be false now
                    throw afterSaving("at " + type, stopped);
                }
                if (r == null) {
                    progress.finish();
                    err.println("interrupted after " + progress.done() + "/" + total + " entities; run the same command again to resume");
                    err.flush();
                    return ExitCodes.INTERRUPTED;
                }
                copies.put(type, r);
                afterCopying.accept(type, src::store);
            }
            progress.finish();
            beforeVerifying.accept(src.isCluster() ? src.registry("migrate") : null);
            // every type verified once all are copied: a write to a type copied early, made while later ones were copied, shows
            List<TypeResult> results = new ArrayList<>();
            for (Map.Entry<String, Copied> c : copies.entrySet()) {
                try {
                    results.add(verify(src.store(c.getKey()), dst.store(c.getKey()), c.getKey(), c.getValue()));
                } catch (RuntimeException stopped) {
                    // what was copied stays in the target: a rerun skips it and verifies again
                    throw afterSaving("verifying " + c.getKey(), stopped);
                }
            }
            // prepared while the copy ran: the verification compared the values its commit replaces
            preparedTransactions(src).ifPresent(found -> {
                throw CliException.failed("migrate stopped verifying " + savedSoFar() + ": " + found
                        + ", then run the same command again to resume");
            });
            boolean verified = results.stream().allMatch(TypeResult::verified);
            report(out, results, verified, src.describe(), dst.describe());
            return verified ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException shuttingDown) {
                // interrupted: the JVM exits once the hook returns
            }
        }
    }

    /**
     * The error for a failure once copying began, how much this run saved: always a failure (exit 1), even with
     * nothing saved yet, since the target's types were created and "bad usage, nothing was changed" would be false.
     */
    private RuntimeException afterSaving(String where, RuntimeException stopped) {
        return CliException.failed("migrate stopped " + where + " " + savedSoFar() + ": "
                + ReliableStoreCli.oneLine(String.valueOf(stopped.getMessage())) + "; fix the cause and run the same command again to resume", stopped);
    }

    /** What this run saved, for a failure's message. */
    private String savedSoFar() {
        return saved == 0 ? "before saving any entity in the target" : "after saving " + saved + " entities in the target, which stay";
    }

    /**
     * Why a cluster source may not be migrated now, or empty: it holds prepared transactions
     * ({@link dev.reliablestore.cluster.ClusterStoreAdmin#preparedTransactions}), in doubt until their coordinator decides, whose commit
     * would land in the source only. Any type's: a record's writes are not decoded here.
     */
    private static Optional<String> preparedTransactions(StoreSession src) {
        if (!src.isCluster()) {
            return Optional.empty();
        }
        src.registry("migrate").readBarrier(); // a prepare acknowledged through another server is seen, as by the provider's recover()
        List<String> prepared = src.stored("migrate").preparedTransactions();
        return prepared.isEmpty() ? Optional.empty() : Optional.of("the source " + src.describe() + " holds "
                + prepared.size() + " prepared transaction(s) (e.g. " + prepared.get(0) + "), in doubt until"
                + " their coordinator decides, and a commit would change the source only: finish them first with the coordinator's"
                + " recover (e.g. Narayana's recovery)");
    }

    /** Verifies one copied type against both sides read again. */
    private TypeResult verify(EntityStore<JsonNode> source, EntityStore<JsonNode> target, String type, Copied c) {
        // verification: counts and content hashes of the whole type on both sides, both read again after the copy,
        // so a write to the source during the run shows as a difference instead of being checked against what it was
        List<Versioned<JsonNode>> inSource = source.getAll();
        Json.ContentHash sourceHash = new Json.ContentHash();
        Map<String, byte[]> sourceById = new LinkedHashMap<>();
        for (Versioned<JsonNode> v : inSource) {
            byte[] json = Json.canonicalBytes(v.value());
            sourceHash.add(v.id(), json);
            sourceById.put(v.id(), json);
        }
        Json.ContentHash targetHash = new Json.ContentHash();
        List<String> differences = new ArrayList<>();
        List<Versioned<JsonNode>> inTarget = target.getAll();
        for (Versioned<JsonNode> v : inTarget) {
            byte[] json = Json.canonicalBytes(v.value());
            targetHash.add(v.id(), json);
            byte[] expected = sourceById.remove(v.id());
            if (differences.size() < 5) {
                if (expected == null) {
                    differences.add(v.id() + " is only in the target");
                } else if (!Arrays.equals(expected, json)) {
                    differences.add(v.id() + " differs");
                }
            }
        }
        for (String missing : sourceById.keySet()) {
            if (differences.size() < 5) {
                differences.add(missing + " is missing from the target");
            }
        }
        return new TypeResult(type, inSource.size(), c.copied(), c.updated(), c.skipped(), inTarget.size(), sourceHash.hex(),
                targetHash.hex(), differences);
    }

    /** What one type's copy did. */
    private record Copied(long copied, long updated, long skipped) {
    }

    /** Copies one type; null when interrupted. */
    private Copied copy(EntityStore<JsonNode> source, EntityStore<JsonNode> target, Progress progress, long started)
            throws InterruptedException {
        List<Versioned<JsonNode>> all = source.getAll();
        long copied = 0;
        long updated = 0;
        long skipped = 0;
        for (int from = 0; from < all.size(); from += batchSize) {
            if (stopRequested) {
                return null;
            }
            List<Versioned<JsonNode>> chunk = all.subList(from, Math.min(all.size(), from + batchSize));
            Map<String, Versioned<JsonNode>> present = target.getMany(chunk.stream().map(Versioned::id).toList());
            Map<String, JsonNode> write = new LinkedHashMap<>();
            for (Versioned<JsonNode> v : chunk) {
                Versioned<JsonNode> there = present.get(v.id());
                if (there == null) {
                    write.put(v.id(), v.value());
                    copied++;
                } else if (!Arrays.equals(Json.canonicalBytes(there.value()), Json.canonicalBytes(v.value()))) {
                    // by the text stored, not JsonNode.equals: Jackson's number nodes compare values (12.3 equals 12.30)
                    write.put(v.id(), v.value());
                    updated++;
                } else {
                    skipped++;
                }
            }
            if (!write.isEmpty()) {
                save(target, write);
            }
            progress.advance(chunk.size());
            throttle(progress.done(), started);
        }
        return new Copied(copied, updated, skipped);
    }

    /** Entities this run saved in the target (a halved batch saves the halves that fit before one fails). */
    private long saved;

    /** Saves atomically, halving a batch the target finds too large. */
    private void save(EntityStore<JsonNode> target, Map<String, JsonNode> batch) {
        try {
            target.saveBatch(batch);
            saved += batch.size();
        } catch (EntityTooLargeException tooLarge) {
            if (batch.size() == 1) {
                throw tooLarge;
            }
            List<Map.Entry<String, JsonNode>> entries = new ArrayList<>(batch.entrySet());
            int half = entries.size() / 2;
            Map<String, JsonNode> first = new LinkedHashMap<>();
            Map<String, JsonNode> second = new LinkedHashMap<>();
            for (int i = 0; i < entries.size(); i++) {
                (i < half ? first : second).put(entries.get(i).getKey(), entries.get(i).getValue());
            }
            save(target, first);
            save(target, second);
        }
    }

    private static final long THROTTLE_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private void throttle(long done, long started) throws InterruptedException {
        if (maxRate == null) {
            return;
        }
        long dueNanos = (long) (done * 1e9 / maxRate);
        // in slices: a stop (SIGTERM's hook waits 30 s at most) ends the pause, which may be a batch's worth of seconds
        for (long ahead; (ahead = dueNanos - (System.nanoTime() - started)) > 0 && !stopRequested; ) {
            LockSupport.parkNanos(Math.min(ahead, THROTTLE_SLICE_NANOS));
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    private void report(PrintWriter out, List<TypeResult> results, boolean verified, String source, String target) {
        if (json) {
            Map<String, Object> types = new LinkedHashMap<>();
            for (TypeResult r : results) {
                types.put(r.type(), Json.object("source", r.source(), "copied", r.copied(), "updated", r.updated(),
                        "skipped", r.skipped(), "target", r.target(), "sourceSha256", r.sourceHash(), "targetSha256", r.targetHash(),
                        "verified", r.verified(), "differences", r.differences()));
            }
            out.println(Json.write(Json.object("from", source, "to", target, "verified", verified, "types", types)));
        } else {
            for (TypeResult r : results) {
                out.println(r.type() + ": " + r.source() + " entities: " + r.copied() + " copied, " + r.updated() + " updated, "
                        + r.skipped() + " already present");
                if (r.verified()) {
                    out.println("verified " + r.type() + ": " + r.target() + " entities, sha256 " + r.targetHash() + " on both sides");
                } else {
                    out.println("NOT VERIFIED " + r.type() + ": source " + r.source() + " entities (sha256 " + r.sourceHash()
                            + "), target " + r.target() + " (sha256 " + r.targetHash() + "); e.g. " + r.differences());
                }
            }
        }
        out.flush();
    }
}
