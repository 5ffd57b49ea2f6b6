// Shared by the Kafka bench files: an admin client on the bench broker, or a printed reason to
// skip when none answers.

/** Connects `kafka`'s admin client; undefined (and a "skipped" line) when no broker answers. */
export async function adminOrSkip(kafka, brokers) {
  const admin = kafka.admin()
  try {
    await admin.connect()
    await admin.describeCluster()
    return admin
  } catch (error) {
    console.log(
      `  skipped: no Kafka at ${brokers} (${error.message}); start it with bash tooling/services/kafka.sh`,
    )
    await admin.disconnect().catch(() => undefined)
    return undefined
  }
}
