package dev.reliablestore.cluster;

import dev.reliablestore.api.InvalidIdException;
import dev.reliablestore.registry.RegistryPath;

/**
 * Where the cluster-registry provider keeps things below its storage root
 * ({@code <resourceGroupName>/<registryKeyPath>}), for tools that read the raw tree (backups, the
 * change feed) and for the provider itself. See docs/cluster-registry-provider.md, "Storage layout".
 *
 * <pre>
 * &lt;root&gt;/Entities/&lt;Type&gt;/&lt;Id&gt;                 BINARY  entity envelope
 * &lt;root&gt;/Entities/&lt;Type&gt;/_metadata            BINARY  type descriptor (JSON), with the id of the codec its entities are written with
 * &lt;root&gt;/Entities/&lt;Type&gt;/_versions/&lt;Id&gt;       QWORD   entity version (set in the same batch as the envelope)
 * &lt;root&gt;/Entities/&lt;Type&gt;/_tombstones/&lt;Id&gt;     BINARY  multi-site stores only: a deleted entity's stamp, an envelope of version 0 and no JSON
 * &lt;root&gt;/Configuration/Version                DWORD   layout version
 * &lt;root&gt;/Configuration/Schema                 SZ      description of this layout
 * &lt;root&gt;/Configuration/KeySalt                BINARY  16 random bytes (passphrase key derivation)
 * &lt;root&gt;/Configuration/KeyCheck               BINARY  encrypted stores: the ids of the keys written with, each with a proof
 *                                               of its material (an AES-GCM tag), so a wrong key is refused at open
 * &lt;root&gt;/Configuration/Dictionaries/&lt;Type&gt;/&lt;n&gt; BINARY  zstd dictionary n of a type (never rewritten)
 * &lt;root&gt;/Configuration/RestoreInProgress      SZ      only while a restore replaces the root, or after one stopped part-way
 *                                               ({@link RestoreMarker}): a factory refuses to open the root
 * </pre>
 */
public final class StorageLayout {

    /** The layout version this provider writes and reads. */
    public static final int VERSION = 1;
    /** The key of the entity types. */
    public static final String ENTITIES = "Entities";
    /** The key of the layout version, key salt and dictionaries. */
    public static final String CONFIGURATION = "Configuration";
    /** The value name of a type's descriptor, beside its envelopes. */
    public static final String METADATA = "_metadata";
    /** The key of the zstd dictionaries, under {@link #configuration()}. */
    public static final String DICTIONARIES = "Dictionaries";
    /** The subkey of a type holding its version records (id → version). */
    public static final String VERSIONS = "_versions";
    /**
     * The subkey of a type holding the tombstones of a multi-site store: a delete is a write with a
     * stamp there, so it can win or lose against a concurrent update at another site.
     */
    public static final String TOMBSTONES = "_tombstones";
    /** The version a tombstone's envelope carries; an entity's versions start at 1. */
    public static final long TOMBSTONE_VERSION = 0;
    /** The value name of the layout version, under {@link #configuration()}. */
    public static final String VERSION_VALUE = "Version";
    /** The value name of the description of the layout, under {@link #configuration()}. */
    public static final String SCHEMA_VALUE = "Schema";
    /** The value name of the passphrase key derivation's salt, under {@link #configuration()}. */
    public static final String KEY_SALT_VALUE = "KeySalt";
    /**
     * The value name, under {@link #configuration()}, of the ids of the keys an encrypting factory has
     * written with, each with a proof of its material: a factory whose keys do not match is refused
     * ({@link dev.reliablestore.cluster.crypto.KeyMismatchException}).
     */
    public static final String KEY_CHECK_VALUE = "KeyCheck";
    /**
     * The value name, under {@link #configuration()}, of the mark of a restore that has not finished
     * ({@link RestoreMarker}): written by {@code reliablestore restore} before it changes anything
     * under the root, deleted once the restored contents verified. While it is there the root holds
     * part of a backup, and a factory refuses to open it ({@link UnfinishedRestoreException}).
     */
    public static final String RESTORE_IN_PROGRESS_VALUE = "RestoreInProgress";
    static final String SCHEMA = "ReliableStore cluster-registry layout " + VERSION + ": "
            + "Entities/<Type>/<Id> = entity envelope (BINARY, envelope format " + EnvelopeCodec.FORMAT + "); "
            + "Entities/<Type>/_versions/<Id> = entity version (QWORD); "
            + "Entities/<Type>/_metadata = type descriptor (BINARY, JSON); "
            + "Configuration/KeySalt = passphrase salt (BINARY); "
            + "Configuration/KeyCheck = ids of the keys written with, each with a proof of its material (BINARY); "
            + "Configuration/Dictionaries/<Type>/<n> = zstd dictionary (BINARY)";

    /** Keys the layout creates below the root at most: Entities/&lt;Type&gt;/_versions, Configuration/Dictionaries/&lt;Type&gt;. */
    public static final int DEPTH_BELOW_ROOT = 3;

    /** The longest storage root (in characters) below which every key of the layout fits, with a type name of 255 characters. */
    public static int maxRootLength() {
        int type = RegistryPath.MAX_SEGMENT_LENGTH;
        int versions = ("/" + ENTITIES + "/").length() + type + ("/" + VERSIONS).length();
        int dictionaries = ("/" + CONFIGURATION + "/" + DICTIONARIES + "/").length() + type;
        return RegistryPath.MAX_PATH_LENGTH - Math.max(versions, dictionaries);
    }

    private final RegistryPath root;
    private final RegistryPath entities;
    private final RegistryPath configuration;
    private final RegistryPath dictionaries;

    public StorageLayout(RegistryPath root) {
        this.root = root;
        this.entities = root.child(ENTITIES);
        this.configuration = root.child(CONFIGURATION);
        this.dictionaries = configuration.child(DICTIONARIES);
    }

    public RegistryPath root() {
        return root;
    }

    public RegistryPath entities() {
        return entities;
    }

    public RegistryPath configuration() {
        return configuration;
    }

    /**
     * The {@link #CONFIGURATION} keys of the roots that enclose this one, nearest first: a store may be
     * nested in another's root, and a restore into that one marks only its own root
     * ({@link RestoreMarker}) while it deletes and rewrites the nested store too.
     */
    public java.util.List<RegistryPath> enclosingConfigurations() {
        java.util.List<RegistryPath> out = new java.util.ArrayList<>();
        for (RegistryPath p = root; p.depth() > 1; ) {
            p = p.parent();
            out.add(p.child(CONFIGURATION));
        }
        return out;
    }

    /** The key of a type's envelopes (and its {@link #METADATA} descriptor). */
    public RegistryPath type(String typeName) {
        return entities.child(typeName);
    }

    /** The key of a type's version records. */
    public RegistryPath versions(String typeName) {
        return entities.child(typeName).child(VERSIONS);
    }

    /** The key of a type's tombstones (multi-site stores). */
    public RegistryPath tombstones(String typeName) {
        return entities.child(typeName).child(TOMBSTONES);
    }

    /** The type whose version records live in {@code key}, or null when {@code key} is not such a key. */
    public String typeOfVersionsKey(RegistryPath key) {
        if (key.depth() == root.depth() + 3 && key.name().equals(VERSIONS) && key.isBelow(entities)) {
            return key.parent().name();
        }
        return null;
    }

    /** The type whose envelopes live in {@code key}, or null. */
    public String typeOfTypeKey(RegistryPath key) {
        if (key.depth() == root.depth() + 2 && key.isBelow(entities)) {
            return key.name();
        }
        return null;
    }

    RegistryPath dictionaries(String typeName) {
        return dictionaries.child(typeName);
    }

    /** Ids are stored as value names unchanged; the one name the layout uses itself is refused. */
    static String requireStorableId(String id) {
        if (METADATA.equals(id)) {
            throw new InvalidIdException(id, "invalid entity id \"" + id + "\": it is reserved for the type's metadata value "
                    + "in the cluster-registry layout");
        }
        return id;
    }
}
