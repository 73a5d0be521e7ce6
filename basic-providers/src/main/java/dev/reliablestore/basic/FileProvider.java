package dev.reliablestore.basic;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.codec.EntityCodec;
import dev.reliablestore.codec.JacksonEntityCodec;
import dev.reliablestore.options.Option;
import dev.reliablestore.options.OptionTable;
import dev.reliablestore.options.OptionValues;
import dev.reliablestore.spi.PersistenceProvider;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code "file"} provider: one JSON document per entity in a folder per entity type, each
 * written atomically and durably (temporary file, fsync, atomic rename, directory fsync), batches
 * made atomic by an intent journal that is rolled forward when the directory is opened again.
 * One process at a time owns a directory (an exclusive lock file). See {@code docs/providers.md}.
 *
 * <p>Configuration: {@link #OPTIONS} (docs/providers.md shows it): {@value #DIRECTORY} (required),
 * {@value #MAX_ENTITY_SIZE}, {@value #UPGRADE_FORMAT}.
 */
public final class FileProvider implements PersistenceProvider {

    /** The provider name. */
    public static final String NAME = "file";
    /** Configuration key: the directory holding the data (required). */
    public static final String DIRECTORY = "directory";
    /** Configuration key: the largest encoded entity (a size: bytes or KiB…GiB). */
    public static final String MAX_ENTITY_SIZE = "maxEntitySize";
    /**
     * Configuration key: {@code true} adds a CRC32C to every document of a directory written before
     * checksums existed, then marks it upgraded; {@code false} (default) reads such a directory as it is.
     * A directory already upgraded (or created since) needs nothing: the option then has no work to do.
     */
    public static final String UPGRADE_FORMAT = "upgradeFormat";
    /** Default of {@link #MAX_ENTITY_SIZE}: 16 MiB. */
    public static final long DEFAULT_MAX_ENTITY_BYTES = 16L * 1024 * 1024;
    /** Upper bound of {@link #MAX_ENTITY_SIZE}: 1 GiB. */
    public static final long MAX_MAX_ENTITY_BYTES = 1L << 30;

    static final Option<String> DIRECTORY_OPTION = Option.string(DIRECTORY, null, "— (required)", "path", dir -> {
        if (dir.isBlank()) {
            // Path.of("") is the working directory: a blank setting (an unset variable) would store the data wherever the process started
            throw new IllegalArgumentException("is blank; give the directory that holds the data");
        }
        try {
            Path.of(dir);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("\"" + dir + "\" is not a valid path (" + e.getReason() + ")");
        }
        return dir;
    }, "where the data lives; must be a directory or not exist (then it is created with its parents)").withAlias("file.directory", v -> v);
    static final Option<Long> MAX_ENTITY_SIZE_OPTION = Option.size(MAX_ENTITY_SIZE, DEFAULT_MAX_ENTITY_BYTES, 1, MAX_MAX_ENTITY_BYTES,
            "the largest entity, as its JSON; larger ones fail with `EntityTooLargeException`, nothing written")
            .withAlias("file.max-entity-bytes", v -> v);
    static final Option<Boolean> UPGRADE_FORMAT_OPTION = Option.bool(UPGRADE_FORMAT, false,
            "`true`: on open, a directory written before checksums gets a CRC32C in every document, then its format marker (see Integrity);"
                    + " nothing to do on a directory that has the marker").withAlias("file.upgrade-format", v -> v);
    /** Every option of the file provider. */
    public static final OptionTable OPTIONS = OptionTable.of("the file provider", DIRECTORY_OPTION, MAX_ENTITY_SIZE_OPTION, UPGRADE_FORMAT_OPTION);

    /**
     * The entity types stored in a file provider's directory, sorted, read from its type folders without
     * opening it (no lock taken, nothing recovered). Folders that are not the provider's (a mounted disk's
     * {@code lost+found}) are left out, and so is a type whose folder name is hashed (a long type name)
     * while it holds no document to tell its name.
     *
     * @throws java.io.IOException when the directory cannot be listed
     */
    public static java.util.List<String> typeNames(Path directory) throws java.io.IOException {
        return FileStoreFactory.typeNames(directory.toAbsolutePath().normalize());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public StoreFactory open(Map<String, String> configuration) {
        return open(configuration, JacksonEntityCodec.defaults());
    }

    @Override
    public StoreFactory open(Map<String, String> configuration, EntityCodec codec) {
        OptionValues config = OPTIONS.read(configuration, ConfigurationException::new);
        if (!config.isSet(DIRECTORY_OPTION)) {
            throw new ConfigurationException("the \"" + NAME + "\" provider needs the option " + DIRECTORY + ": the directory that holds the data");
        }
        Path root = Path.of(config.get(DIRECTORY_OPTION)).toAbsolutePath().normalize();
        return FileStoreFactory.open(root, codec, config.get(MAX_ENTITY_SIZE_OPTION), config.get(UPGRADE_FORMAT_OPTION));
    }
}
