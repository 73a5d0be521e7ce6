package dev.reliablestore.cluster.backup;

import dev.reliablestore.api.PersistenceException;

/** A backup file that cannot be used: unreadable, not a backup, an unknown format, a bad checksum or a damaged body. */
public final class BackupFormatException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    public BackupFormatException(String message) {
        super(message);
    }
}
