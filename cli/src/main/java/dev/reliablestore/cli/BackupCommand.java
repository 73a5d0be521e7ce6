package dev.reliablestore.cli;

import dev.reliablestore.cluster.RestoreMarker;
import dev.reliablestore.cluster.backup.BackupFile;
import dev.reliablestore.cluster.backup.RegistrySnapshot;
import dev.reliablestore.registry.ClusterRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code backup}: a consistent, compressed, checksummed snapshot of a cluster-registry store. */
@Command(name = "backup", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a consistent snapshot of the store to a file: every key and value under the storage root "
                + "(entities, version records, metadata, layout, key salt, compression dictionaries) as of one commit "
                + "sequence, read in one registry read batch. Values are copied raw, so encrypted values stay encrypted "
                + "and no key is needed (key options and --no-compression do not apply). The file is deflate-compressed "
                + "and ends with a SHA-256 checksum.",
                "Example: reliablestore backup --store embedded:./data --out store.rsbackup"},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:written", "1:failed (nothing to back up, a restore into the store did not finish, I/O error)",
                "2:bad usage (e.g. a file: store, a key option, or --out exists without --force)"})
final class BackupCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The backup file to write.")
    Path out;

    @Option(names = "--force", description = "Replace FILE if it exists.")
    boolean force;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        StoreOptions.refuseSealingOptions(spec, "backup copies the stored values as they are (encrypted ones stay encrypted,"
                + " compressed ones compressed; no key is needed)");
        if (Files.exists(out) && !force) {
            throw CliException.usage("backup file " + out + " exists; use --force to replace it");
        }
        try (StoreSession session = StoreSession.open(store.spec(), StoreSession.Access.EXISTING)) {
            ClusterRegistry registry = session.registry("backup");
            RegistrySnapshot snapshot = RegistrySnapshot.take(registry, session.layout().root());
            if (snapshot.isEmpty()) {
                throw CliException.failed("nothing to back up: " + session.describe() + " holds no data");
            }
            Optional<RestoreMarker> unfinished = RestoreMarker.inSnapshot(snapshot.keys());
            if (unfinished.isPresent()) {
                throw CliException.failed("not backing up " + session.describe() + ": " + StoreSession.unfinishedRestore(unfinished.get())
                        + "; a backup of it would hold part of a backup");
            }
            Map<String, Long> entities = snapshot.entityCounts();
            long total = entities.values().stream().mapToLong(Long::longValue).sum();
            String contentDigest = snapshot.contentDigest();
            String fileDigest = BackupFile.write(out, snapshot, registry.uri(), "reliablestore " + ReliableStoreCli.Version.version());
            long bytes = Files.size(out);
            PrintWriter o = spec.commandLine().getOut();
            if (json) {
                o.println(Json.write(Json.object("file", out.toAbsolutePath().toString(), "bytes", bytes, "sha256", fileDigest,
                        "source", registry.uri(), "root", snapshot.root().toString(), "sequence", snapshot.sequence(),
                        "keys", snapshot.keys().size(), "values", snapshot.valueCount(), "entities", entities,
                        "contentSha256", contentDigest)));
            } else {
                o.println("backed up " + registry.uri() + " at " + snapshot.root() + " as of sequence " + snapshot.sequence() + ": "
                        + total + " entities in " + entities.size() + " type(s) " + entities + ", " + snapshot.keys().size()
                        + " keys, " + snapshot.valueCount() + " values");
                o.println("wrote " + out + " (" + bytes + " bytes, sha256 " + fileDigest + ")");
            }
            o.flush();
        }
        return ExitCodes.OK;
    }
}
