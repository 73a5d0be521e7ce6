package dev.reliablestore.codec;

import dev.reliablestore.api.ConfigurationException;

/**
 * A store was opened with a codec other than the one its type's data was written with; the data
 * would be misread, so it is not read. The message names both codec ids.
 */
public class CodecMismatchException extends ConfigurationException {

    private static final long serialVersionUID = 1L;

    private final String storedCodecId;
    private final String codecId;

    public CodecMismatchException(String storedCodecId, String codecId, String message) {
        super(message);
        this.storedCodecId = storedCodecId;
        this.codecId = codecId;
    }

    /** The id of the codec the data was written with. */
    public String storedCodecId() {
        return storedCodecId;
    }

    /** The id of the codec the store was opened with. */
    public String codecId() {
        return codecId;
    }
}
