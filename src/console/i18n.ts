// The console's labels, in Vietnamese (default) and English.
export const LANGS = ['vi', 'en'] as const;
export type Lang = (typeof LANGS)[number];

const LABELS = {
  title: ['Bảng điều khiển trục liên thông', 'LGSP hub console'],
  login: ['Đăng nhập', 'Sign in'], token: ['Mã quản trị', 'Admin token'], logout: ['Đăng xuất', 'Sign out'],
  dashboard: ['Tổng quan', 'Dashboard'], queues: ['Hàng đợi', 'Queues'], deadLetters: ['Thư chết', 'Dead letters'],
  documents: ['Văn bản', 'Documents'], certificates: ['Chứng thư số', 'Certificates'], agencies: ['Cơ quan', 'Agencies'], audit: ['Nhật ký', 'Audit'],
  hub: ['Trục', 'Hub'], throughput: ['Lưu lượng', 'Throughput'], accepted: ['Đã nhận', 'Accepted'], rejected: ['Từ chối', 'Rejected'],
  rejectionsByCode: ['Từ chối theo mã lỗi', 'Rejections by code'], queueDepths: ['Độ dài hàng đợi', 'Queue depths'],
  links: ['Kết nối trục lân cận', 'Links to neighbour hubs'], up: ['hoạt động', 'up'], down: ['mất kết nối', 'down'],
  expiringSoon: ['Chứng thư sắp hết hạn (60 ngày)', 'Certificates expiring within 60 days'], none: ['Không có', 'None'],
  queue: ['Hàng đợi', 'Queue'], messages: ['Tin nhắn', 'Messages'], consumers: ['Bên nhận', 'Consumers'],
  reason: ['Lý do', 'Reason'], at: ['Thời điểm', 'At'], sender: ['Nơi gửi', 'Sender'], docId: ['Mã văn bản', 'Doc id'],
  replay: ['Gửi lại', 'Replay'], delete: ['Xóa', 'Delete'], filter: ['Lọc', 'Filter'], search: ['Tìm', 'Search'],
  agency: ['Cơ quan', 'Agency'], role: ['Vai trò của trục', 'Hub role'], subject: ['Trích yếu', 'Subject'],
  timeline: ['Hành trình', 'Timeline'], checks: ['Kiểm tra', 'Checks'], verdict: ['Kết quả', 'Verdict'],
  recipients: ['Nơi nhận', 'Recipients'], state: ['Trạng thái', 'State'], notAfter: ['Hết hạn', 'Expires'],
  name: ['Tên', 'Name'], code: ['Mã định danh', 'Code'], actor: ['Người thực hiện', 'Actor'], action: ['Thao tác', 'Action'],
  detail: ['Chi tiết', 'Detail'], done: ['Đã thực hiện', 'Done'], notAllowed: ['Không có quyền thực hiện', 'Not allowed'],
  paused: ['đang tạm dừng', 'paused'], running: ['đang xử lý', 'running'], pause: ['Tạm dừng', 'Pause'], resume: ['Tiếp tục', 'Resume'],
  badToken: ['Mã quản trị không đúng', 'Wrong admin token'], since: ['Từ', 'Since'], delivery: ['Chuyển phát', 'Delivery'],
  // The link to the national axis (issue 17).
  nationalAxis: ['Trục quốc gia', 'National axis'], nationalDirectory: ['Danh bạ quốc gia', 'National directory'],
  parentCode: ['Mã cơ quan cấp trên', 'Parent code'], mail: ['Thư điện tử', 'Mail'], oldCode: ['Mã cũ', 'Old code'],
  lastAnswer: ['Trả lời gần nhất', 'Last answer'], lastPoll: ['Lần nhận gần nhất', 'Last poll'], lastError: ['Lỗi gần nhất', 'Last error'],
  readAt: ['Cập nhật lúc', 'Read at'], notLinked: ['Mạng này chưa kết nối trục quốc gia', 'This network is not linked to the national axis'],
  // Values shown in tables (roles, delivery and certificate states, hop verdicts).
  origin: ['nơi gửi', 'origin'], destination: ['nơi nhận', 'destination'], transit: ['chuyển tiếp', 'transit'],
  queued: ['chờ gửi', 'queued'], in_transit: ['đang chuyển', 'in transit'], delivered: ['đã đến nơi nhận', 'delivered'],
  acked: ['đã xác nhận', 'acknowledged'], failed: ['không chuyển được', 'failed'],
  active: ['đang dùng', 'active'], retiring: ['sắp thay thế', 'retiring'], retired: ['đã thay thế', 'retired'], revoked: ['đã thu hồi', 'revoked'], expired: ['hết hạn', 'expired'],
  bytes: ['Kích thước (byte)', 'Bytes'], publishRate: ['Gửi vào/giây', 'Publish/s'], deliverRate: ['Lấy ra/giây', 'Deliver/s'],
  hopAccepted: ['chấp nhận', 'accepted'], hopRejected: ['từ chối', 'rejected'], unacked: ['chưa xác nhận', 'unacked'], ackedAt: ['xác nhận lúc', 'acknowledged at'],
  // Exchange statistics (issue 20).
  stats: ['Thống kê', 'Statistics'], from: ['Từ ngày', 'From'], to: ['Đến ngày', 'To'], show: ['Xem', 'Show'],
  sent: ['Văn bản gửi', 'Sent'], received: ['Văn bản nhận', 'Received'], statusSent: ['Trạng thái gửi', 'Statuses sent'],
  statusReceived: ['Trạng thái nhận', 'Statuses received'], refused: ['Bị từ chối', 'Refused'], ackDone: ['Đã xác nhận', 'Acknowledged'],
  ackFailed: ['Xác nhận lỗi', 'Acknowledged fail'], medianAck: ['Thời gian xác nhận (trung vị)', 'Time to acknowledge (median)'],
  p90Ack: ['Thời gian xác nhận (p90)', 'Time to acknowledge (p90)'], overdue: ['Quá hạn', 'Overdue'], waiting: ['Đã chờ', 'Waiting'],
  documentsPerDay: ['Văn bản theo ngày', 'Documents per day'], last7Days: ['Văn bản 7 ngày qua', 'Documents, last 7 days'],
  exportCsv: ['Xuất CSV', 'Export CSV'], exportExcel: ['Xuất Excel', 'Export Excel'], total: ['Tổng cộng', 'Total'],
  overdueList: ['Văn bản đã đến nhưng chưa được xác nhận quá hạn', 'Documents delivered and not acknowledged in time'],
  badRange: ['Khoảng ngày không hợp lệ; hiển thị 30 ngày gần nhất', 'Not a valid date range; showing the last 30 days'],
  days: ['ngày', 'd'], hours: ['giờ', 'h'], minutes: ['phút', 'min'],
  successor: ['Cơ quan kế thừa', 'Successor'], oldCodes: ['Mã cũ (đã đóng)', 'Old (closed) codes'], closedInto: ['Đã đóng, chuyển về', 'Closed into'],
  closesInto: ['Sẽ đóng, chuyển về', 'Closes into'], closeAgency: ['Đóng cơ quan (sáp nhập)', 'Close an agency (merger)'],
} as const satisfies Record<string, readonly [string, string]>;

export type Label = keyof typeof LABELS;

export function label(lang: Lang, key: Label): string {
  return LABELS[key][lang === 'vi' ? 0 : 1];
}

/** A value's label where the console has one (a state, a role), else the value itself. */
export function valueLabel(lang: Lang, value: string): string {
  return value in LABELS ? label(lang, value as Label) : value;
}
