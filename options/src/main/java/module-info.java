/** The one options model of every ReliableStore configuration surface (providers and registry backends). */
module dev.reliablestore.options {
    requires org.slf4j;

    exports dev.reliablestore.options;
}
