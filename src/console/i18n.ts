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
  successor: ['Cơ quan kế thừa', 'Successor'], oldCodes: ['Mã cũ (đã đóng)', 'Old (closed) codes'], closedInto: ['Đã đóng, chuyển về', 'Closed into'],
  closesInto: ['Sẽ đóng, chuyển về', 'Closes into'], closeAgency: ['Đóng cơ quan (sáp nhập)', 'Close an agency (merger)'],
} as const satisfies Record<string, readonly [string, string]>;

export type Label = keyof typeof LABELS;

export function label(lang: Lang, key: Label): string {
  return LABELS[key][lang === 'vi' ? 0 : 1];
}
