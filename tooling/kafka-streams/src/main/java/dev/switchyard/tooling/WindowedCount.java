package dev.switchyard.tooling;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Keyed tumbling count with grace and final results (suppress until the window closes) over a
 * topic of CloudEvents in Kafka binary mode: the record key is the partition key and the event
 * time is the ce_time header. Exits after `expected` input records were counted and prints one
 * JSON line: records, milliseconds from the first record to the last, results emitted.
 *
 * Arguments: bootstrap topic outputTopic applicationId sizeMs graceMs expected [stateDir]
 */
public final class WindowedCount {
  /** Event time from the CloudEvents ce_time header; the broker's timestamp when absent. */
  public static final class CeTime implements TimestampExtractor {
    public CeTime() {}

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
      Header header = record.headers().lastHeader("ce_time");
      if (header == null) return record.timestamp();
      return Instant.parse(new String(header.value(), StandardCharsets.UTF_8)).toEpochMilli();
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 7) {
      System.err.println("usage: WindowedCount bootstrap topic output appId sizeMs graceMs expected [stateDir]");
      System.exit(2);
    }
    String topic = args[1];
    String output = args[2];
    long size = Long.parseLong(args[4]);
    long grace = Long.parseLong(args[5]);
    long expected = Long.parseLong(args[6]);

    Properties props = new Properties();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[3]);
    props.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, CeTime.class);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    if (args.length > 7) props.put(StreamsConfig.STATE_DIR_CONFIG, args[7]);

    AtomicLong seen = new AtomicLong();
    AtomicLong first = new AtomicLong();
    AtomicLong results = new AtomicLong();
    CountDownLatch done = new CountDownLatch(1);
    AtomicBoolean failed = new AtomicBoolean();

    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(topic, Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .peek((key, value) -> {
          long n = seen.incrementAndGet();
          if (n == 1) first.set(System.nanoTime());
          if (n == expected) done.countDown();
        })
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(size), Duration.ofMillis(grace)))
        .count()
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .map((windowed, count) -> {
          results.incrementAndGet();
          String key = windowed.key() + "@" + windowed.window().start();
          return KeyValue.pair(key, Long.toString(count));
        })
        .to(output, Produced.with(Serdes.String(), Serdes.String()));

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    streams.setStateListener((now, before) -> System.err.println("kafka-streams: " + before + " -> " + now));
    streams.setUncaughtExceptionHandler(error -> {
      error.printStackTrace();
      failed.set(true);
      done.countDown();
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.start();
    boolean finished = done.await(10, TimeUnit.MINUTES) && !failed.get();
    long ms = (System.nanoTime() - first.get()) / 1_000_000;
    streams.close(Duration.ofSeconds(10));
    streams.cleanUp();
    System.out.println(
        "{\"records\":" + seen.get() + ",\"ms\":" + ms + ",\"results\":" + results.get()
            + ",\"finished\":" + finished + "}");
    System.exit(finished ? 0 : 1);
  }
}
