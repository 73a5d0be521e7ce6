package dev.reliablestore.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.StoreUnavailableException;
import dev.reliablestore.codec.CodecMismatchException;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.registry.ConditionFailedException;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.ValueType;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/**
 * A type's descriptor, {@code Entities/<Type>/_metadata} (JSON): written once when the type is
 * first opened, and the record of the codec its entities are written with ({@code "codec"}: the
 * {@link EntityCodec#id()}). Opening a type with a codec of another id is refused, since its values
 * would be misread. A descriptor written before codec ids were recorded (no {@code "codec"}) belongs
 * to data the default Jackson codec wrote, the only codec there was: it opens with a Jackson codec,
 * which then records its id there (best effort: a store that may not write still opens). A type
 * known to hold encrypted values is marked {@code "encrypted": true} ({@link #markEncrypted}); a type
 * so marked does not open in a factory with encryption off (unless it only checks), whose saves
 * would be values in clear.
 */
final class TypeDescriptor {

    private static final Logger LOG = LoggerFactory.getLogger(TypeDescriptor.class);

    /** The descriptor's member holding the codec id. */
    static final String CODEC = "codec";
    /** The descriptor's member set (true) once a factory that encrypts opened the type. */
    static final String ENCRYPTED = "encrypted";

    private static final ObjectMapper JSON = JacksonEntityCodec.defaults().mapper();
    /** Each attempt lost its condition to another opener: they would have to keep changing the descriptor. */
    private static final int ATTEMPTS = 10;

    private TypeDescriptor() {
    }

    /**
     * Creates the descriptor of {@code typeName} with the factory's codec id, or checks the stored
     * one against it (recording the id in a descriptor written before ids).
     *
     * @return whether the descriptor says the type is encrypted
     * @throws CodecMismatchException when the type's data was written with a codec of another id
     * @throws ConfigurationException when the type is encrypted and the factory, not one for checking, does not encrypt
     * @throws DataIntegrityException when the stored descriptor is not one
     */
    static boolean open(ClusterStoreFactory factory, String typeName, Class<?> type) {
        EntityCodec codec = factory.codec();
        RegistryGateway gateway = factory.gateway();
        RegistryPath key = factory.layout().type(typeName);
        String where = typeName + "/" + StorageLayout.METADATA;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Optional<VersionedValue> stored = gateway.value("read of " + typeName + " metadata", key, StorageLayout.METADATA);
            try {
                if (stored.isEmpty() && factory.checkingOnly()) {
                    return false; // a check writes nothing: the codec the data was written with is then unknown here
                }
                if (stored.isEmpty()) {
                    commit(gateway, "creation of " + typeName + " metadata", WriteBatch.builder()
                            .requireValueAbsent(key, StorageLayout.METADATA)
                            .setValue(key, StorageLayout.METADATA, RegistryValue.binary(create(factory, typeName, type, codec))).build());
                    return false;
                }
                ObjectNode descriptor = parse(stored.get(), where);
                JsonNode recorded = descriptor.get(CODEC);
                String storedId = codecId(descriptor, where);
                if (!storedId.equals(codec.id())) {
                    throw new CodecMismatchException(storedId, codec.id(), "entity type " + typeName + " under " + factory.layout().root()
                            + " in " + gateway.uri() + " was written with codec \"" + storedId + "\""
                            + (recorded == null ? " (recorded before codec ids were: the default Jackson codec)" : "")
                            + ", but this factory encodes with \"" + codec.id() + "\"; open it with the codec it was written with");
                }
                boolean markedEncrypted = encrypted(descriptor, where);
                boolean encrypts = factory.envelopeCodec().encrypts();
                if (markedEncrypted && !encrypts && !factory.checkingOnly()) {
                    // its saves would store values in clear, which every node with the keys then refuses to read (and a
                    // trained dictionary in clear besides): a node started without its encryption options must not write
                    throw new ConfigurationException("entity type " + typeName + " under " + factory.layout().root() + " in " + gateway.uri()
                            + " is encrypted (its metadata says so), but this factory has encryption off, so its writes would store"
                            + " values in clear that the nodes with the keys refuse; open it with enableEncryption=true and the"
                            + " store's keys (ClusterStoreAdmin.openForChecking opens it without, to check it)");
                }
                if (recorded != null || factory.checkingOnly()) {
                    return markedEncrypted;
                }
                descriptor.put(CODEC, storedId);
                try {
                    commit(gateway, "recording of the codec id in " + typeName + " metadata", WriteBatch.builder()
                            .requireRevision(key, StorageLayout.METADATA, stored.get().revision())
                            .setValue(key, StorageLayout.METADATA, RegistryValue.binary(bytes(descriptor))).build());
                } catch (PersistenceException e) { // a lost condition is a ConditionFailedException, handled below
                    // the check passed, and a missing id means the same: a reader without write access still opens the type
                    LOG.warn("could not record codec id {} in {} ({}); the type opens, and the next store that can write records it",
                            storedId, where, e.getMessage());
                }
                return markedEncrypted;
            } catch (ConditionFailedException raced) {
                // another store created or upgraded the descriptor first: check what it wrote
            }
        }
        throw new StoreUnavailableException("the metadata of entity type " + typeName + " kept changing while it was opened ("
                + ATTEMPTS + " attempts)");
    }

    /**
     * Marks a type encrypted once it is known to hold encrypted values: after a store commits one, and when re-encryption
     * finds one. Opening a type with keys marks nothing (a tool given keys by mistake, or the first opener of a type whose
     * descriptor a site never received, would lock the application of a store in clear out of its own type). Best
     * effort, and never thrown: it follows writes that committed, whose callers must not be told they failed. A
     * failure is logged and the values stay as written.
     *
     * @return whether the descriptor is marked (or there is none to mark); false when the registry failed, so a
     *         later write tries again
     */
    static boolean markEncrypted(ClusterStoreFactory factory, String typeName) {
        RegistryGateway gateway = factory.gateway();
        RegistryPath key = factory.layout().type(typeName);
        String where = typeName + "/" + StorageLayout.METADATA;
        try {
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                Optional<VersionedValue> stored = gateway.value("read of " + typeName + " metadata", key, StorageLayout.METADATA);
                if (stored.isEmpty()) {
                    return true; // no descriptor to mark: the next store that opens the type creates one, marked when it encrypts
                }
                ObjectNode descriptor = parse(stored.get(), where);
                JsonNode encrypted = descriptor.get(ENCRYPTED);
                if (encrypted != null && encrypted.isBoolean() && encrypted.booleanValue()) {
                    return true;
                }
                descriptor.put(ENCRYPTED, true);
                try {
                    commit(gateway, "recording that " + typeName + " is encrypted in its metadata", WriteBatch.builder()
                            .requireRevision(key, StorageLayout.METADATA, stored.get().revision())
                            .setValue(key, StorageLayout.METADATA, RegistryValue.binary(bytes(descriptor))).build());
                    return true;
                } catch (ConditionFailedException raced) {
                    // changed meanwhile: read it again
                }
            }
            LOG.warn("could not record in {} that the type is encrypted: it kept changing ({} attempts); the next encrypted write"
                    + " or re-encryption records it", where, ATTEMPTS);
        } catch (PersistenceException e) {
            LOG.warn("could not record in {} that the type is encrypted ({}); the next encrypted write or re-encryption records it",
                    where, e.getMessage());
        }
        return false;
    }

    private static void commit(RegistryGateway gateway, String what, WriteBatch batch) {
        gateway.commit(RegistryGateway.Commit.durable(what, batch).ungated());
    }

    private static byte[] create(ClusterStoreFactory factory, String typeName, Class<?> type, EntityCodec codec) {
        ObjectNode d = JSON.createObjectNode();
        d.put("layout", StorageLayout.VERSION);
        d.put("type", typeName);
        d.put("entityClass", type.getName());
        d.put("created", Instant.now().toString());
        d.put("createdBy", factory.nodeName());
        d.put("versions", StorageLayout.VERSIONS);
        d.put(CODEC, codec.id());
        return bytes(d);
    }

    /**
     * The id of the codec {@code typeName}'s entities were written with, from its stored descriptor
     * (read only); empty when the type has none.
     *
     * @throws DataIntegrityException when the stored descriptor is not one
     */
    static Optional<String> storedCodecId(RegistryGateway gateway, StorageLayout layout, String typeName) {
        String where = typeName + "/" + StorageLayout.METADATA;
        return gateway.value("read of " + typeName + " metadata", layout.type(typeName), StorageLayout.METADATA)
                .map(stored -> codecId(parse(stored, where), where));
    }

    /**
     * Whether {@code typeName}'s stored descriptor says its values are encrypted (read only; false
     * when the type has none).
     *
     * @throws DataIntegrityException when the stored descriptor is not one
     */
    static boolean storedEncrypted(RegistryGateway gateway, StorageLayout layout, String typeName) {
        String where = typeName + "/" + StorageLayout.METADATA;
        return gateway.value("read of " + typeName + " metadata", layout.type(typeName), StorageLayout.METADATA)
                .map(stored -> encrypted(parse(stored, where), where)).orElse(false);
    }

    private static boolean encrypted(ObjectNode descriptor, String where) {
        JsonNode encrypted = descriptor.get(ENCRYPTED);
        if (encrypted != null && !encrypted.isBoolean()) {
            throw new DataIntegrityException(where + ": \"" + ENCRYPTED + "\" is a JSON " + encrypted.getNodeType() + ", not a boolean");
        }
        return encrypted != null && encrypted.booleanValue();
    }

    /** The descriptor's codec id; a descriptor written before ids were recorded is the default Jackson codec's. */
    private static String codecId(ObjectNode descriptor, String where) {
        JsonNode recorded = descriptor.get(CODEC);
        if (recorded != null && !recorded.isTextual()) {
            throw new DataIntegrityException(where + ": the codec id is a JSON " + recorded.getNodeType() + ", not a string");
        }
        return recorded == null ? JacksonEntityCodec.ID : recorded.asText();
    }

    private static ObjectNode parse(VersionedValue stored, String where) {
        RegistryValue v = stored.value();
        if (v.type() != ValueType.BINARY) {
            throw new DataIntegrityException(where + " is a " + v.type() + " value, not the type's BINARY JSON descriptor");
        }
        JsonNode node;
        try {
            node = JSON.readTree(v.unsafeData());
        } catch (IOException e) {
            // Jackson's message would quote the bytes
            throw new DataIntegrityException(where + " is not a JSON descriptor (" + e.getClass().getSimpleName()
                    + "), so the codec its entities were written with is unknown");
        }
        if (!(node instanceof ObjectNode object)) {
            throw new DataIntegrityException(where + " is not a JSON object, so the codec its entities were written with is unknown");
        }
        return object;
    }

    private static byte[] bytes(ObjectNode descriptor) {
        try {
            return JSON.writeValueAsBytes(descriptor);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a type descriptor", e);
        }
    }
}
