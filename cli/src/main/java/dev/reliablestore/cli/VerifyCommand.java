package dev.reliablestore.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reliablestore.cluster.ClusterStoreAdmin;
import dev.reliablestore.cluster.RestoreMarker;
import dev.reliablestore.cluster.ValueCodec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code verify}: decodes every entity and reports the ones that are corrupt or cannot be decrypted, by id. */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Decode every entity of the store (checksums, decryption with the given keys, JSON) and report each one "
                + "that is corrupt, undecryptable or whose envelope and version record do not belong together, by type and id. "
                + "Each type is read at one commit sequence. Nothing is written (not even a dictionary resealed under the active key).",
                "Example: reliablestore verify --store embedded:./data --passphrase-env RS_PASSPHRASE"},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {"0:every entity decodes", "1:failed (store unreachable)",
                "2:bad usage", "3:some entities are corrupt or undecryptable (listed), or a restore into the store did not finish"})
final class VerifyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--type", paramLabel = "TYPE", description = "Verify this type only (repeatable). Default: every type.")
    List<String> types = new ArrayList<>();

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    /**
     * Key options for a store none of whose values is encrypted are a mistake (with keys, a value in clear
     * is refused as not encrypted, so every one would be reported): said at once instead.
     */
    private static void refuseKeysForAStoreInClear(ClusterStoreAdmin stored, List<String> types, String store) {
        boolean anyValue = false;
        for (String t : types) {
            Map<String, Long> usage;
            try {
                usage = stored.keyUsage(t);
            } catch (dev.reliablestore.api.DataIntegrityException damaged) {
                return; // a value that is no envelope at all: the check below reports it by id, and this one cannot tell
            }
            if (usage.keySet().stream().anyMatch(k -> !k.isEmpty())) {
                return;
            }
            anyValue |= !usage.isEmpty();
        }
        if (anyValue) {
            throw CliException.usage("key options were given, but no value of " + store + " is encrypted; verify it without them"
                    + " (with keys, a value in clear is refused as not encrypted: an application opened with them reads none of"
                    + " these until reencrypt --encrypt-values-in-clear)");
        }
    }

    @Override
    public Integer call() {
        types.forEach(EntityCommands::checkType);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (StoreSession session = StoreSession.open(store.spec(), StoreSession.Access.EXISTING).checkingOnly()) {
            ClusterStoreAdmin stored = session.stored("verify");
            if (stored.layoutVersion().isEmpty()) {
                // "verified 0 entities" would hide a mistyped root, as backup refuses one
                throw CliException.failed("nothing to verify: " + session.describe() + " holds no store (check --resource-group and --key-path)");
            }
            Optional<RestoreMarker> unfinished = stored.unfinishedRestore();
            if (unfinished.isPresent()) {
                // every entity may decode, and the store still be part of a backup: not "verified"
                throw CliException.check("not verified: " + session.describe() + ": " + StoreSession.unfinishedRestore(unfinished.get()));
            }
            List<String> all = stored.types();
            List<String> chosen = types.isEmpty() ? all : types;
            for (String t : chosen) {
                if (!all.contains(t)) {
                    throw CliException.usage("type " + t + " does not exist in " + session.describe() + "; types: " + all);
                }
            }
            if (store.spec().keys().present()) {
                refuseKeysForAStoreInClear(stored, all, session.describe());
            }
            Map<String, Long> checked = new TreeMap<>();
            List<Map<String, Object>> problems = new ArrayList<>();
            for (String type : chosen) {
                ValueCodec<JsonNode> codec = session.clusterStore(type).codec();
                List<ClusterStoreAdmin.StoredEntity> entities = stored.entities(type);
                Progress progress = new Progress(err, Progress.onTerminal(), "verify " + type, entities.size(), Duration.ofSeconds(1));
                long n = 0;
                for (ClusterStoreAdmin.StoredEntity entity : entities) {
                    String problem = entity.problem() != null ? entity.problem() : undecodable(codec, entity);
                    if (problem != null) {
                        problems.add(Json.object("type", type, "id", entity.id(), "problem", problem));
                    }
                    progress.update(++n);
                }
                if (entities.size() >= 1000) {
                    progress.finish();
                }
                checked.put(type, n);
            }
            long total = checked.values().stream().mapToLong(Long::longValue).sum();
            if (json) {
                out.println(Json.write(Json.object("store", session.describe(), "entities", checked, "checked", total,
                        "corrupt", problems.size(), "problems", problems)));
            } else {
                for (Map<String, Object> p : problems) {
                    out.println("CORRUPT " + p.get("type") + "/" + p.get("id") + ": " + p.get("problem"));
                }
                out.println("verified " + total + " entities in " + checked.size() + " type(s) " + checked + ": "
                        + (problems.isEmpty() ? "all decode" : problems.size() + " corrupt or undecryptable"));
            }
            out.flush();
            return problems.isEmpty() ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
        }
    }

    /** Why an entity's envelope does not decode, or null. */
    private static String undecodable(ValueCodec<JsonNode> codec, ClusterStoreAdmin.StoredEntity entity) {
        try {
            codec.decode(entity.id(), entity.version(), entity.envelope());
            return null;
        } catch (RuntimeException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : ReliableStoreCli.oneLine(e.getMessage());
        }
    }
}
