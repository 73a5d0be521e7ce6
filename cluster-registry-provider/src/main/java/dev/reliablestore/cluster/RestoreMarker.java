package dev.reliablestore.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;

/**
 * The mark of a restore that has not finished, {@code <root>/Configuration/RestoreInProgress}
 * ({@link StorageLayout#RESTORE_IN_PROGRESS_VALUE}): {@code reliablestore restore} writes it before
 * it changes anything under the root and deletes it only after the last batch was written and the
 * restored contents were read back equal to the backup. While it is there the root holds part of a
 * backup (a restore stopped part-way by a signal, {@code kill -9}, a crash or a power loss; or one
 * still running): a factory refuses to open the root ({@link UnfinishedRestoreException}), scheduled
 * backups skip it, and {@code status}, {@code verify} and {@code health} report it. A rerun of
 * {@code restore --force} replaces it with its own and removes it when it completes.
 *
 * <p>Stored as an SZ value holding one JSON object: {@code started} (ISO-8601 instant), {@code host},
 * {@code user}, {@code backup} (the file restored), {@code source} (the registry the backup was taken
 * of) and {@code sequence} (its commit sequence there). Fields that are missing or unreadable read as
 * {@code "?"} (or -1): a value of any content under that name is a mark.
 *
 * @param started  when the restore began (ISO-8601), or "?"
 * @param host     the host it ran on, or "?"
 * @param user     the operating-system user who ran it, or "?"
 * @param backup   the backup file it restored, or "?"
 * @param source   the registry the backup was taken of, or "?"
 * @param sequence the backup's commit sequence in its source, or -1
 */
public record RestoreMarker(String started, String host, String user, String backup, String source, long sequence) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UNKNOWN = "?";

    /** The mark of a restore of {@code backup} beginning now on this host, as this user. */
    public static RestoreMarker beginning(String backup, String source, long sequence) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = UNKNOWN;
        }
        return new RestoreMarker(Instant.now().toString(), host, System.getProperty("user.name", UNKNOWN), backup, source, sequence);
    }

    /** The mark as stored: SZ, one JSON object. */
    public RegistryValue toValue() {
        ObjectNode o = JSON.createObjectNode().put("started", started).put("host", host).put("user", user).put("backup", backup)
                .put("source", source).put("sequence", sequence);
        return RegistryValue.sz(o.toString());
    }

    /** The mark a stored value makes, whatever it holds (a value that is no JSON object is still a mark). */
    public static RestoreMarker of(RegistryValue value) {
        JsonNode o;
        try {
            o = JSON.readTree(value.type() == ValueType.SZ ? value.asSz() : new String(value.data(), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException unreadable) {
            o = null;
        }
        if (o == null || !o.isObject()) {
            return new RestoreMarker(UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, -1);
        }
        return new RestoreMarker(text(o, "started"), text(o, "host"), text(o, "user"), text(o, "backup"), text(o, "source"),
                o.path("sequence").canConvertToLong() ? o.path("sequence").asLong() : -1);
    }

    /** The mark among the values of a root's Configuration key, if there is one. */
    public static Optional<RestoreMarker> in(Map<String, RegistryValue> configurationValues) {
        RegistryValue v = configurationValues == null ? null : configurationValues.get(StorageLayout.RESTORE_IN_PROGRESS_VALUE);
        return Optional.ofNullable(v).map(RestoreMarker::of);
    }

    /** The mark in a snapshot's keys (relative to the root), if there is one. */
    public static Optional<RestoreMarker> inSnapshot(SortedMap<RegistryPath, SortedMap<String, RegistryValue>> keys) {
        return in(keys.get(RegistryPath.of(StorageLayout.CONFIGURATION)));
    }

    /** For people: "started 2026-01-02T03:04:05Z by alice on ops-1, from nightly.rsbackup". */
    public String describe() {
        return "started " + started + " by " + user + " on " + host + ", from " + backup;
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() || v.asText().isBlank() ? UNKNOWN : v.asText();
    }
}
