/** A dead letter as the list route gives it. */
export interface Entry {
  id: string
  event_id: string | null
  type: string | null
  subject: string | null
  tenant: string | null
  group: string
  reason: string
  error: { name: string; message: string }
  attempts: number
  dead_lettered_at: string
  status: string
}
