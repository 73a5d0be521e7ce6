package dev.reliablestore.cluster;

import com.github.luben.zstd.ZstdDictCompress;
import com.github.luben.zstd.ZstdDictDecompress;

/**
 * A trained zstd dictionary of one entity type. Immutable once stored: its id is never reused, so
 * an envelope that names a dictionary id always finds the bytes it was compressed with.
 */
record CompressionDictionary(int id, byte[] bytes, ZstdDictCompress compress, ZstdDictDecompress decompress) {

    static CompressionDictionary of(int id, byte[] bytes, int level) {
        return new CompressionDictionary(id, bytes.clone(), new ZstdDictCompress(bytes, level), new ZstdDictDecompress(bytes));
    }

    /** Finds the dictionaries of a type. */
    interface Lookup {

        /** The dictionary new writes should use, or null. */
        CompressionDictionary current(String type);

        /**
         * The dictionary with this id.
         *
         * @throws dev.reliablestore.api.DataIntegrityException when no such dictionary exists
         */
        CompressionDictionary byId(String type, int id);

        /** Offers a plaintext sample for training; cheap, may ignore it. */
        void sample(String type, byte[] plaintext);
    }
}
